package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// reuseTests cover rule 5 of Rotate: reuse detection and the grace period.
func reuseTests() []test {
	return []test{
		{"RevokesFamily", testReuseRevokesFamily},
		{"SameInstantWithoutGrace", testReuseSameInstant},
		{"WithinGracePeriod", testReuseWithinGrace},
		{"RepeatedWithinGracePeriod", testReuseRepeatedWithinGrace},
		{"AfterGracePeriod", testReuseAfterGrace},
	}
}

// chain creates a family and rotates it n times, a minute apart, returning
// the grant and the hashes of its tokens, oldest first.
func chain(t *testing.T, h harness, s tokenstore.Store, n int) (tokenstore.Grant, []tokenstore.Hash) {
	t.Helper()
	g := NewGrant(h.base)
	hashes := []tokenstore.Hash{CreateFamily(t, s, g).Hash}
	for i := 1; i <= n; i++ {
		res := RequireRotate(t, s, hashes[i-1], h.at(time.Duration(i)*time.Minute))
		hashes = append(hashes, res.Token.Hash)
	}
	return g, hashes
}

// presentReused presents hash at now (expecting ErrReused) and checks that
// the whole family is revoked at now.
func presentReused(t *testing.T, s tokenstore.Store, g tokenstore.Grant, hashes []tokenstore.Hash, presented tokenstore.Hash, now time.Time, grace time.Duration) {
	t.Helper()
	next := NewHash()
	_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: presented, Next: next, ClientID: ClientID, Now: now, GracePeriod: grace,
	})
	requireRecordError(t, tokenstore.ErrReused, err)
	requireNotFound(t, s, next, "Next must not be created")

	got := grant(t, s, g.ID)
	require.True(t, got.Revoked, "reuse revokes the grant")
	sameTime(t, now, got.RevokedAt, "RevokedAt")

	for i, hash := range hashes {
		gotGrant, tok := lookup(t, s, hash)
		require.ErrorIs(t, tok.Check(gotGrant, now), tokenstore.ErrRevoked, "Check of generation %d", i+1)
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: hash, Next: NewHash(), ClientID: ClientID, Now: now.Add(time.Second),
		})
		requireRecordError(t, tokenstore.ErrRevoked, err, "Rotate of generation %d after reuse", i+1)
	}
}

func testReuseRevokesFamily(t *testing.T, h harness) {
	cases := []struct {
		name      string
		rotations int
		presented int // index of the reused token
	}{
		{"PreviousGeneration", 1, 0},
		{"TwoGenerationsBack", 2, 0},
		{"MiddleOfChain", 4, 2},
		{"LatestUsed", 4, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g, hashes := chain(t, h, s, tc.rotations)
			presentReused(t, s, g, hashes, hashes[tc.presented], h.at(time.Hour), 0)
		})
	}
}

// testReuseSameInstant: without grace period, a second presentation is
// reuse even at the very instant of the first.
func testReuseSameInstant(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	now := h.at(time.Minute)
	res := RequireRotate(t, s, first.Hash, now)
	presentReused(t, s, g, []tokenstore.Hash{first.Hash, res.Token.Hash}, first.Hash, now, 0)
}

func testReuseWithinGrace(t *testing.T, h harness) {
	const grace = time.Minute
	s := h.newStore(t)
	g := NewGrant(h.base)
	g.IdleTimeout = time.Hour
	first := CreateFamily(t, s, g)
	usedAt := h.at(time.Minute)
	successor := RequireRotate(t, s, first.Hash, usedAt)

	now := usedAt.Add(grace - Precision)
	next := NewHash()
	res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: first.Hash, Next: next, ClientID: ClientID, Now: now, GracePeriod: grace,
	})
	require.NoError(t, err)
	assert.True(t, res.Grace, "Grace")
	sameGrant(t, g, res.Grant)
	sameToken(t, tokenstore.RefreshToken{
		Hash: next, GrantID: g.ID, Generation: 2, IssuedAt: now, ExpiresAt: g.NextExpiry(now),
	}, res.Token)

	_, old := lookup(t, s, first.Hash)
	sameTime(t, usedAt, old.UsedAt, "UsedAt keeps the first use")
	require.False(t, grant(t, s, g.ID).Revoked)

	// Both successors are valid tokens of the family.
	a := RequireRotate(t, s, successor.Token.Hash, now.Add(time.Second))
	b := RequireRotate(t, s, next, now.Add(2*time.Second))
	assert.Equal(t, 3, a.Token.Generation)
	assert.Equal(t, 3, b.Token.Generation)
}

func testReuseRepeatedWithinGrace(t *testing.T, h harness) {
	const grace = 30 * time.Second
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	usedAt := h.at(time.Minute)
	seen := map[tokenstore.Hash]bool{RequireRotate(t, s, first.Hash, usedAt).Token.Hash: true}

	for i := range 3 {
		next := NewHash()
		res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: first.Hash, Next: next, ClientID: ClientID,
			Now: usedAt.Add(time.Duration(i) * 10 * time.Second), GracePeriod: grace,
		})
		require.NoError(t, err, "presentation %d", i+2)
		require.True(t, res.Grace)
		require.Equal(t, next, res.Token.Hash)
		require.False(t, seen[next])
		seen[next] = true
	}
	require.False(t, grant(t, s, g.ID).Revoked)
}

func testReuseAfterGrace(t *testing.T, h harness) {
	const grace = time.Minute
	cases := []struct {
		name  string
		after time.Duration // from the first use
	}{
		{"Exactly", grace},
		{"Later", 5 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g := NewGrant(h.base)
			first := CreateFamily(t, s, g)
			usedAt := h.at(time.Minute)
			res := RequireRotate(t, s, first.Hash, usedAt)
			presentReused(t, s, g, []tokenstore.Hash{first.Hash, res.Token.Hash}, first.Hash, usedAt.Add(tc.after), grace)
		})
	}
}
