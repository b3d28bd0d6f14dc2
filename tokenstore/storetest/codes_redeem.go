package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func redeemCodeTests() []codeTest {
	return []codeTest{
		{"Unknown", testRedeemUnknown},
		{"OtherClient", testRedeemOtherClient},
		{"Expired", testRedeemExpired},
		{"JustBeforeExpiry", testRedeemJustBeforeExpiry},
		{"OtherClientBeatsExpiry", testRedeemOtherClientExpired},
		{"Binding", testRedeemBinding},
		{"OmittedRedirectURI", testRedeemOmittedRedirectURI},
		{"BindingAfterClientAndExpiry", testRedeemBindingOrder},
		{"GrantTemplate", testRedeemGrantTemplate},
		{"NoRefreshToken", testRedeemNoRefreshToken},
		{"GrantExists", testRedeemGrantExists},
		{"NilGrant", testRedeemNilGrant},
	}
}

// requireNoGrant requires no grant with ID id to exist in s.
func requireNoGrant(t testing.TB, s tokenstore.Store, id, msg string) {
	t.Helper()
	_, err := s.Grant(t.Context(), id)
	requireRecordError(t, tokenstore.ErrNotFound, err, msg)
}

// requireConsumed requires c to have been consumed without a grant: the
// right presentation at now is reuse, which leaves the revoked
// placeholder in the grant's place.
func requireConsumed(t testing.TB, s FullStore, c tokenstore.AuthorizationCode, now time.Time) {
	t.Helper()
	requireNoGrant(t, s, c.GrantID, "a refused presentation creates no grant")
	_, err := redeem(t, s, c, c.ClientID, now)
	requireRecordError(t, tokenstore.ErrReused, err, "the code was consumed")
	requirePlaceholder(t, s, c, now)
}

// testRedeemUnknown: unknown hashes, and known ones presented without
// their grant ID or with another one, are ErrNotFound and change nothing.
func testRedeemUnknown(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	other := NewCode(h.base)
	createCode(t, s, other)

	refs := map[string]tokenstore.TokenRef{
		"UnknownHashNamingTheGrant": {Hash: NewHash(), GrantID: c.GrantID},
		"UnknownHashNamingNoGrant":  {Hash: NewHash()},
		"UnknownHashUnknownGrant":   {Hash: NewHash(), GrantID: tokenstore.NewID()},
		"KnownHashNamingNoGrant":    {Hash: c.Hash},
		"KnownHashNamingAnother":    {Hash: c.Hash, GrantID: other.GrantID},
		"KnownHashUnknownGrant":     {Hash: c.Hash, GrantID: tokenstore.NewID()},
	}
	for name, ref := range refs {
		req := Redemption(c, h.at(time.Second))
		req.Code = ref
		_, err := s.RedeemCode(t.Context(), req)
		requireRecordError(t, tokenstore.ErrNotFound, err, name)
	}
	requireNoGrant(t, s, c.GrantID, "an unknown code revokes nothing")
	requireRedeem(t, s, c, h.at(2*time.Second))
	requireRedeem(t, s, other, h.at(2*time.Second))
}

// testRedeemOtherClient: a code presented by another client is refused
// and consumed: its own client's presentation afterwards is reuse.
func testRedeemOtherClient(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)

	_, err := redeem(t, s, c, "another-client", h.at(time.Second))
	requireRecordError(t, tokenstore.ErrClientMismatch, err)
	requireConsumed(t, s, c, h.at(2*time.Second))
}

// testRedeemExpired: a code presented at or after its expiry is
// ErrExpired, again and again: it is not consumed, and no grant is
// created, revoked or put in place.
func testRedeemExpired(t *testing.T, h codeHarness) {
	cases := []struct {
		name  string
		after time.Duration // after ExpiresAt
	}{
		{"Exactly", 0},
		{"Later", 5 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			c := NewCode(h.base)
			createCode(t, s, c)
			now := c.ExpiresAt.Add(tc.after)
			for i := range 2 {
				_, err := redeem(t, s, c, ClientID, now.Add(time.Duration(i)*time.Second))
				requireRecordError(t, tokenstore.ErrExpired, err, "presentation %d", i+1)
			}
			requireNoGrant(t, s, c.GrantID, "an expired code creates or revokes nothing")
		})
	}
}

// testRedeemJustBeforeExpiry: the last instant before ExpiresAt is valid.
func testRedeemJustBeforeExpiry(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	requireRedeem(t, s, c, c.ExpiresAt.Add(-Precision))
}

// testRedeemOtherClientExpired: the client check comes before the expiry
// check (rule 3 before rule 4).
func testRedeemOtherClientExpired(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	_, err := redeem(t, s, c, "another-client", c.ExpiresAt)
	requireRecordError(t, tokenstore.ErrClientMismatch, err)
}

// testRedeemBinding: a presentation whose redirect URI or code challenge
// is not the code's, compared byte for byte, is refused and consumes the
// code (rule 5); the redirect URI is checked first.
func testRedeemBinding(t *testing.T, h codeHarness) {
	const otherChallenge = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU" // S256 of ""
	cases := []struct {
		name string
		edit func(r *tokenstore.RedeemRequest)
		want error
	}{
		{"OtherRedirectURI", func(r *tokenstore.RedeemRequest) { r.RedirectURI = "https://evil.example/callback" }, tokenstore.ErrRedirectMismatch},
		{"MissingRedirectURI", func(r *tokenstore.RedeemRequest) { r.RedirectURI = "" }, tokenstore.ErrRedirectMismatch},
		{"RedirectURITrailingSlash", func(r *tokenstore.RedeemRequest) { r.RedirectURI += "/" }, tokenstore.ErrRedirectMismatch},
		{"RedirectURIOtherCase", func(r *tokenstore.RedeemRequest) { r.RedirectURI = "https://APP.example.org/callback" }, tokenstore.ErrRedirectMismatch},
		{"RedirectURIWithQuery", func(r *tokenstore.RedeemRequest) { r.RedirectURI += "?x=1" }, tokenstore.ErrRedirectMismatch},
		// A registered URI does not replace the one the authorization
		// request named.
		{"OtherRegisteredRedirectURI", func(r *tokenstore.RedeemRequest) {
			r.RedirectURI = "https://app.example.org/other"
			r.ClientRedirectURIs = append(r.ClientRedirectURIs, r.RedirectURI)
		}, tokenstore.ErrRedirectMismatch},
		{"OtherChallenge", func(r *tokenstore.RedeemRequest) { r.CodeChallenge = otherChallenge }, tokenstore.ErrChallengeMismatch},
		{"NoChallenge", func(r *tokenstore.RedeemRequest) { r.CodeChallenge = "" }, tokenstore.ErrChallengeMismatch},
		{"PlainVerifierAsChallenge", func(r *tokenstore.RedeemRequest) { r.CodeChallenge = CodeVerifier }, tokenstore.ErrChallengeMismatch},
		{"ChallengePrefix", func(r *tokenstore.RedeemRequest) { r.CodeChallenge = CodeChallenge[:42] }, tokenstore.ErrChallengeMismatch},
		{"BothWrong", func(r *tokenstore.RedeemRequest) {
			r.RedirectURI, r.CodeChallenge = "https://evil.example/callback", otherChallenge
		}, tokenstore.ErrRedirectMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			c := NewCode(h.base)
			createCode(t, s, c)
			req := Redemption(c, h.at(time.Second))
			tc.edit(&req)
			_, err := s.RedeemCode(t.Context(), req)
			requireRecordError(t, tc.want, err)
			requireConsumed(t, s, c, h.at(2*time.Second))
		})
	}
}

// testRedeemOmittedRedirectURI: a code whose authorization request named
// no redirect URI (RedirectURI empty) is redeemed with none, or with one
// of the client's registered URIs; any other URI is refused and consumes
// it.
func testRedeemOmittedRedirectURI(t *testing.T, h codeHarness) {
	cases := []struct {
		name, uri string
		want      error
	}{
		{"None", "", nil},
		{"Registered", RedirectURI, nil},
		{"Unregistered", "https://evil.example/callback", tokenstore.ErrRedirectMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			c := NewCode(h.base)
			c.RedirectURI = ""
			createCode(t, s, c)
			now := h.at(time.Second)
			req := Redemption(c, now)
			req.RedirectURI = tc.uri
			res, err := s.RedeemCode(t.Context(), req)
			if tc.want == nil {
				require.NoError(t, err)
				requireRedeemed(t, s, c, now, res)
				return
			}
			requireRecordError(t, tc.want, err)
			requireConsumed(t, s, c, h.at(2*time.Second))
		})
	}
}

// testRedeemBindingOrder: the client check and the expiry check come
// before the binding (rules 3 and 4 before rule 5): an expired code with
// the wrong binding is ErrExpired, and not consumed.
func testRedeemBindingOrder(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	wrong := func(client string, now time.Time) error {
		req := Redemption(c, now)
		req.ClientID, req.RedirectURI, req.CodeChallenge = client, "https://evil.example/callback", ""
		_, err := s.RedeemCode(t.Context(), req)
		return err
	}
	requireRecordError(t, tokenstore.ErrExpired, wrong(ClientID, c.ExpiresAt))
	requireRecordError(t, tokenstore.ErrExpired, wrong(ClientID, c.ExpiresAt), "an expired code is not consumed")
	requireRecordError(t, tokenstore.ErrClientMismatch, wrong("another-client", h.at(time.Second)))
}

// testRedeemGrantTemplate: the grant and its first token are made from
// the code and the template the Grant function returns for it (called
// with the code's record, at most once), whatever its lifetime, idle
// timeout and kind.
func testRedeemGrantTemplate(t *testing.T, h codeHarness) {
	cases := []struct {
		name     string
		template tokenstore.GrantTemplate
	}{
		{"OfflineNoIdle", tokenstore.GrantTemplate{ExpiresAt: h.at(90 * 24 * time.Hour), Kind: tokenstore.KindOffline}},
		{"OnlineIdle", tokenstore.GrantTemplate{ExpiresAt: h.at(8 * time.Hour), IdleTimeout: 30 * time.Minute, Kind: tokenstore.KindOnline}},
		{"IdleBeyondExpiry", tokenstore.GrantTemplate{ExpiresAt: h.at(time.Hour), IdleTimeout: 2 * time.Hour, Kind: tokenstore.KindOnline}},
		{"OddDurations", tokenstore.GrantTemplate{ExpiresAt: h.at(time.Hour + 7*time.Millisecond), IdleTimeout: 1500 * time.Millisecond, Kind: tokenstore.KindOnline}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			c := NewCode(h.base)
			createCode(t, s, c)
			now := h.at(time.Second)
			tmpl := tc.template
			_, ref := tokenstore.NewRefreshToken(c.GrantID)
			tmpl.RefreshToken = ref.Hash
			calls := 0
			req := Redemption(c, now)
			req.Grant = func(got tokenstore.AuthorizationCode) tokenstore.GrantTemplate {
				calls++
				sameCode(t, c, got)
				return tmpl
			}
			res, err := s.RedeemCode(t.Context(), req)
			require.NoError(t, err)
			assert.Equal(t, 1, calls, "Grant is called once")

			g := GrantFromCode(c, now)
			g.ExpiresAt, g.IdleTimeout, g.Kind = tmpl.ExpiresAt, tmpl.IdleTimeout, tmpl.Kind
			first := tokenstore.RefreshToken{Hash: ref.Hash, GrantID: g.ID, Generation: 1, IssuedAt: now, ExpiresAt: g.NextExpiry(now)}
			sameGrant(t, g, res.Grant)
			sameToken(t, first, res.Token)
			sameGrant(t, g, grant(t, s, g.ID))
			_, tok := lookup(t, s, Ref(first))
			sameToken(t, first, tok)

			// The family rotates like any other.
			rot := RequireRotate(t, s, Ref(first), h.at(2*time.Second))
			sameGrant(t, g, rot.Grant)
			assert.Equal(t, 2, rot.Token.Generation)
		})
	}
}

// testRedeemNoRefreshToken: a template without refresh token makes a
// grant without one, which a second presentation revokes all the same.
func testRedeemNoRefreshToken(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	now := h.at(time.Second)
	req := Redemption(c, now)
	req.Grant = func(tokenstore.AuthorizationCode) tokenstore.GrantTemplate {
		return tokenstore.GrantTemplate{ExpiresAt: now.Add(GrantLifetime), Kind: tokenstore.KindOnline}
	}
	res, err := s.RedeemCode(t.Context(), req)
	require.NoError(t, err)
	g := GrantFromCode(c, now)
	g.Kind = tokenstore.KindOnline
	sameGrant(t, g, res.Grant)
	assert.True(t, res.Token.Hash.IsZero(), "no refresh token")
	assert.Equal(t, tokenstore.RefreshToken{}, res.Token)
	sameGrant(t, g, grant(t, s, c.GrantID))

	revokedAt := h.at(2 * time.Second)
	_, err = redeem(t, s, c, ClientID, revokedAt)
	requireRecordError(t, tokenstore.ErrReused, err)
	g.Revoked, g.RevokedAt = true, revokedAt
	sameGrant(t, g, grant(t, s, c.GrantID))
}

// testRedeemGrantExists: a code whose grant ID was given to a grant by
// CreateGrant after the code was stored cannot be redeemed: ErrConflict,
// and nothing changes (the code is not consumed, the grant not revoked).
func testRedeemGrantExists(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	g := GrantFromCode(c, h.base)
	first := CreateFamily(t, s, g)

	for i := range 2 {
		now := h.at(time.Duration(i+1) * time.Second)
		_, ref := tokenstore.NewRefreshToken(c.GrantID)
		req := Redemption(c, now)
		req.Grant = func(tokenstore.AuthorizationCode) tokenstore.GrantTemplate {
			return tokenstore.GrantTemplate{ExpiresAt: now.Add(GrantLifetime), Kind: tokenstore.KindOffline, RefreshToken: ref.Hash}
		}
		_, err := s.RedeemCode(t.Context(), req)
		requireRecordError(t, tokenstore.ErrConflict, err, "presentation %d", i+1)
		requireNotFound(t, s, ref, "no token is created")
	}
	sameGrant(t, g, grant(t, s, g.ID))
	RequireRotate(t, s, Ref(first), h.at(3*time.Second))
}

// testRedeemNilGrant: a request without Grant is a programming error,
// not a record error, and changes nothing.
func testRedeemNilGrant(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	req := Redemption(c, h.at(time.Second))
	req.Grant = nil
	_, err := s.RedeemCode(t.Context(), req)
	require.Error(t, err)
	require.False(t, tokenstore.IsRecordError(err), "IsRecordError(%v)", err)
	requireRedeem(t, s, c, h.at(2*time.Second))
}
