package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func createGrantTests() []test {
	return []test{
		{"RoundTrip", testCreateRoundTrip},
		{"SetsFirstTokenGrantID", testCreateSetsGrantID},
		{"DuplicateGrantID", testCreateDuplicateGrantID},
		{"DuplicateTokenHash", testCreateDuplicateHash},
		{"Unknown", testUnknown},
	}
}

// testCreateRoundTrip stores grants that differ in every field and reads
// them back with Grant and LookupToken.
func testCreateRoundTrip(t *testing.T, h harness) {
	cases := []struct {
		name string
		edit func(g *tokenstore.Grant)
	}{
		{"Offline", func(*tokenstore.Grant) {}},
		{"OnlineWithIdleTimeout", func(g *tokenstore.Grant) {
			g.Kind = tokenstore.KindOnline
			g.Scope = "openid fhirUser online_access launch user/Patient.rs"
			g.IdleTimeout = 30 * time.Minute
			g.ExpiresAt = g.IssuedAt.Add(8 * time.Hour)
		}},
		{"NilLaunchContext", func(g *tokenstore.Grant) { g.LaunchContext = nil }},
		{"EmptyLaunchContext", func(g *tokenstore.Grant) { g.LaunchContext = []byte{} }},
		{"BinaryLaunchContext", func(g *tokenstore.Grant) {
			g.LaunchContext = []byte{0x00, 0xff, 0xfe, '"', '\\', '\n', 0x80, 0x00}
		}},
		{"LargeLaunchContext", func(g *tokenstore.Grant) {
			b := make([]byte, 16<<10)
			for i := range b {
				b[i] = byte(i)
			}
			g.LaunchContext = b
		}},
		{"NoUser", func(g *tokenstore.Grant) {
			g.Subject = "system-client"
			g.FHIRUser = ""
			g.Scope = "system/Observation.rs"
			g.LaunchContext = nil
		}},
		{"UnicodeAndPunctuation", func(g *tokenstore.Grant) {
			g.Subject = "Zoë O'Brien \"quoted\" 患者 ; DROP TABLE grants; --"
			g.FHIRUser = "https://fhir.example.org/r4/Patient/ünïcode?x=1&y=%20"
		}},
		{"OddDurations", func(g *tokenstore.Grant) {
			g.IdleTimeout = 1500 * time.Millisecond
			g.ExpiresAt = g.IssuedAt.Add(90*24*time.Hour + 1*time.Millisecond)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g := NewGrant(h.base)
			tc.edit(&g)
			first := FirstToken(g)
			require.NoError(t, s.CreateGrant(t.Context(), g, first))

			got := grant(t, s, g.ID)
			sameGrant(t, g, got)

			gotGrant, gotTok := lookup(t, s, Ref(first))
			sameGrant(t, g, gotGrant)
			sameToken(t, first, gotTok)
			require.NoError(t, gotTok.Check(gotGrant, h.base), "Check of a new token")
		})
	}
}

// testCreateSetsGrantID: an empty first.GrantID is set to the grant's ID.
func testCreateSetsGrantID(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := FirstToken(g)
	first.GrantID = ""
	require.NoError(t, s.CreateGrant(t.Context(), g, first))

	_, tok := lookup(t, s, tokenstore.TokenRef{Hash: first.Hash, GrantID: g.ID})
	require.Equal(t, g.ID, tok.GrantID)
	require.Equal(t, 1, tok.Generation)
}

// testCreateDuplicateGrantID: a second grant with the same ID is refused and
// nothing of it is written.
func testCreateDuplicateGrantID(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	CreateFamily(t, s, g)

	dup := NewGrant(h.at(time.Second))
	dup.ID = g.ID
	dup.ClientID = "other-client"
	dup.Subject = "other-user"
	dupFirst := FirstToken(dup)
	err := s.CreateGrant(t.Context(), dup, dupFirst)
	requireRecordError(t, tokenstore.ErrConflict, err)

	requireNotFound(t, s, Ref(dupFirst), "the refused grant's token must not be stored")
	sameGrant(t, g, grant(t, s, g.ID))
}

// testCreateDuplicateHash: a grant whose first token has the hash of an
// existing token is refused and nothing of it is written.
func testCreateDuplicateHash(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)

	other := NewGrant(h.at(time.Second))
	otherFirst := FirstToken(other)
	otherFirst.Hash = first.Hash
	err := s.CreateGrant(t.Context(), other, otherFirst)
	requireRecordError(t, tokenstore.ErrConflict, err)

	_, err = s.Grant(t.Context(), other.ID)
	requireRecordError(t, tokenstore.ErrNotFound, err, "the refused grant must not be stored")
	gotGrant, gotTok := lookup(t, s, Ref(first))
	sameGrant(t, g, gotGrant)
	sameToken(t, first, gotTok)
}

// testUnknown: unknown hashes and grant IDs are ErrNotFound, whatever
// family the presented value names.
func testUnknown(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	CreateFamily(t, s, g)

	requireNotFound(t, s, tokenstore.TokenRef{Hash: NewHash()}, "unknown hash naming no family")
	requireNotFound(t, s, tokenstore.TokenRef{Hash: NewHash(), GrantID: g.ID}, "unknown hash naming an existing family")
	requireNotFound(t, s, tokenstore.TokenRef{Hash: NewHash(), GrantID: tokenstore.NewID()}, "unknown hash naming an unknown family")
	_, err := s.Grant(t.Context(), tokenstore.NewID())
	requireRecordError(t, tokenstore.ErrNotFound, err, "unknown grant ID")
	_, err = s.Grant(t.Context(), "")
	requireRecordError(t, tokenstore.ErrNotFound, err, "empty grant ID")
}
