package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func createCodeTests() []codeTest {
	return []codeTest{
		{"RoundTrip", testCodeRoundTrip},
		{"DuplicateHash", testCodeDuplicateHash},
		{"DuplicateGrantID", testCodeDuplicateGrantID},
		{"GrantExists", testCodeGrantExists},
		{"Invalid", testCodeInvalid},
	}
}

// sameCode asserts that got has every field of want. A nil and an empty
// LaunchContext are the same.
func sameCode(t testing.TB, want, got tokenstore.AuthorizationCode) {
	t.Helper()
	assert.Equal(t, want.Hash, got.Hash, "AuthorizationCode.Hash")
	assert.Equal(t, want.GrantID, got.GrantID, "AuthorizationCode.GrantID")
	assert.Equal(t, want.ClientID, got.ClientID, "AuthorizationCode.ClientID")
	assert.Equal(t, want.RedirectURI, got.RedirectURI, "AuthorizationCode.RedirectURI")
	assert.Equal(t, want.CodeChallenge, got.CodeChallenge, "AuthorizationCode.CodeChallenge")
	assert.Equal(t, want.Scope, got.Scope, "AuthorizationCode.Scope")
	assert.Equal(t, want.Subject, got.Subject, "AuthorizationCode.Subject")
	assert.Equal(t, want.FHIRUser, got.FHIRUser, "AuthorizationCode.FHIRUser")
	assert.Truef(t, bytes.Equal(want.LaunchContext, got.LaunchContext),
		"AuthorizationCode.LaunchContext: want %q, got %q", want.LaunchContext, got.LaunchContext)
	assert.Equal(t, want.Nonce, got.Nonce, "AuthorizationCode.Nonce")
	sameTime(t, want.AuthTime, got.AuthTime, "AuthorizationCode.AuthTime")
	sameTime(t, want.IssuedAt, got.IssuedAt, "AuthorizationCode.IssuedAt")
	sameTime(t, want.ExpiresAt, got.ExpiresAt, "AuthorizationCode.ExpiresAt")
	sameTime(t, want.UsedAt, got.UsedAt, "AuthorizationCode.UsedAt")
}

// createCode stores c in s, failing the test if CreateCode fails.
func createCode(t testing.TB, s tokenstore.CodeStore, c tokenstore.AuthorizationCode) {
	t.Helper()
	require.NoError(t, s.CreateCode(t.Context(), c), "CreateCode")
}

// redeem presents c with the right binding on behalf of client at now
// (Redemption).
func redeem(t testing.TB, s tokenstore.CodeStore, c tokenstore.AuthorizationCode, client string, now time.Time) (tokenstore.RedeemResult, error) {
	t.Helper()
	req := Redemption(c, now)
	req.ClientID = client
	return s.RedeemCode(t.Context(), req)
}

// requireRedeem presents c on behalf of its client at now with the right
// binding and requires success (see requireRedeemed).
func requireRedeem(t testing.TB, s FullStore, c tokenstore.AuthorizationCode, now time.Time) tokenstore.RedeemResult {
	t.Helper()
	res, err := redeem(t, s, c, c.ClientID, now)
	require.NoError(t, err, "RedeemCode")
	requireRedeemed(t, s, c, now, res)
	return res
}

// requireRedeemed requires res to be the result of redeeming c at now
// with the Grant of GrantTemplate: the code as stored with UsedAt = now,
// the grant GrantFromCode(c, now) and its first refresh token, and s to
// hold that grant and token, live.
func requireRedeemed(t testing.TB, s FullStore, c tokenstore.AuthorizationCode, now time.Time, res tokenstore.RedeemResult) {
	t.Helper()
	want := c
	want.UsedAt = now
	sameCode(t, want, res.Code)
	g := GrantFromCode(c, now)
	sameGrant(t, g, res.Grant)
	require.False(t, res.Token.Hash.IsZero(), "RedeemResult.Token: the first refresh token")
	sameToken(t, tokenstore.RefreshToken{
		Hash: res.Token.Hash, GrantID: c.GrantID, Generation: 1, IssuedAt: now, ExpiresAt: g.NextExpiry(now),
	}, res.Token)
	sameGrant(t, g, grant(t, s, c.GrantID))
	sg, tok := lookup(t, s, Ref(res.Token))
	sameGrant(t, g, sg)
	sameToken(t, res.Token, tok)
	require.NoError(t, tok.Check(sg, now), "the first refresh token is live")
}

// testCodeRoundTrip stores codes that differ in every field and redeems
// them: the record comes back as stored, used at the Now of the
// redemption.
func testCodeRoundTrip(t *testing.T, h codeHarness) {
	cases := []struct {
		name string
		edit func(c *tokenstore.AuthorizationCode)
	}{
		{"AllFields", func(*tokenstore.AuthorizationCode) {}},
		{"NoOptionalFields", func(c *tokenstore.AuthorizationCode) {
			c.FHIRUser, c.Nonce, c.LaunchContext, c.AuthTime = "", "", nil, time.Time{}
			c.Scope = "patient/Observation.rs"
		}},
		{"EmptyLaunchContext", func(c *tokenstore.AuthorizationCode) { c.LaunchContext = []byte{} }},
		{"BinaryLaunchContext", func(c *tokenstore.AuthorizationCode) {
			c.LaunchContext = []byte{0x00, 0xff, 0xfe, '"', '\\', '\n', 0x80, 0x00}
		}},
		{"LargeLaunchContext", func(c *tokenstore.AuthorizationCode) {
			b := make([]byte, 16<<10)
			for i := range b {
				b[i] = byte(i)
			}
			c.LaunchContext = b
		}},
		{"UnicodeAndPunctuation", func(c *tokenstore.AuthorizationCode) {
			c.Subject = "Zoë O'Brien \"quoted\" 患者 ; DROP TABLE codes; --"
			c.RedirectURI = "http://127.0.0.1:51004/cb?x=1&y=%20#no"
			c.Nonce = "nonce with spaces, ünïcode and : colons"
		}},
		{"HashedGrantTag", func(c *tokenstore.AuthorizationCode) {
			c.GrantID = "grant {with} braces, spaces and ünïcode"
			_, ref := tokenstore.NewRefreshToken(c.GrantID)
			c.Hash = ref.Hash
		}},
		{"OddTimes", func(c *tokenstore.AuthorizationCode) {
			c.ExpiresAt = c.IssuedAt.Add(1500 * time.Millisecond)
			c.AuthTime = c.IssuedAt.Add(-90*24*time.Hour - time.Millisecond)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			c := NewCode(h.base)
			tc.edit(&c)
			createCode(t, s, c)
			requireRedeem(t, s, c, h.at(time.Second))
		})
	}
}

// testCodeDuplicateHash: a second code with the hash of a stored one is
// refused, whatever else it holds, and nothing of it is written.
func testCodeDuplicateHash(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	requireRecordError(t, tokenstore.ErrConflict, s.CreateCode(t.Context(), c), "the same code twice")

	dup := NewCode(h.at(time.Second))
	dup.Hash, dup.GrantID = c.Hash, c.GrantID
	dup.ClientID, dup.Subject, dup.RedirectURI = "other-client", "other-user", "https://evil.example/cb"
	requireRecordError(t, tokenstore.ErrConflict, s.CreateCode(t.Context(), dup), "another code with the same hash")

	requireRedeem(t, s, c, h.at(2*time.Second))
}

// testCodeDuplicateGrantID: each code creates a grant of its own, so a
// second code naming the same grant is refused.
func testCodeDuplicateGrantID(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)

	dup := NewCode(h.base)
	dup.GrantID = c.GrantID
	_, ref := tokenstore.NewRefreshToken(c.GrantID)
	dup.Hash = ref.Hash
	requireRecordError(t, tokenstore.ErrConflict, s.CreateCode(t.Context(), dup))
	_, err := redeem(t, s, dup, ClientID, h.at(time.Second))
	requireRecordError(t, tokenstore.ErrNotFound, err, "the refused code must not be stored")

	requireRedeem(t, s, c, h.at(time.Second))
}

// testCodeGrantExists: a code naming an existing grant is refused: its
// reuse would revoke a grant it did not create.
func testCodeGrantExists(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	CreateFamily(t, s, g)

	c := NewCode(h.base)
	c.GrantID = g.ID
	_, ref := tokenstore.NewRefreshToken(g.ID)
	c.Hash = ref.Hash
	requireRecordError(t, tokenstore.ErrConflict, s.CreateCode(t.Context(), c))
	_, err := redeem(t, s, c, ClientID, h.at(time.Second))
	requireRecordError(t, tokenstore.ErrNotFound, err, "the refused code must not be stored")
	require.False(t, grant(t, s, g.ID).Revoked)
}

// testCodeInvalid: a code without grant ID, or already used, is a
// programming error, not a record error, and is not stored.
func testCodeInvalid(t *testing.T, h codeHarness) {
	cases := []struct {
		name string
		edit func(c *tokenstore.AuthorizationCode)
	}{
		{"EmptyGrantID", func(c *tokenstore.AuthorizationCode) { c.GrantID = "" }},
		{"AlreadyUsed", func(c *tokenstore.AuthorizationCode) { c.UsedAt = c.IssuedAt }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			c := NewCode(h.base)
			tc.edit(&c)
			err := s.CreateCode(t.Context(), c)
			require.Error(t, err)
			require.False(t, tokenstore.IsRecordError(err), "IsRecordError(%v)", err)
			_, err = redeem(t, s, c, ClientID, h.at(time.Second))
			requireRecordError(t, tokenstore.ErrNotFound, err, "an invalid code must not be stored")
		})
	}
}
