package storetest

import (
	"testing"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// FullStore is a store that keeps both refresh-token families and
// authorization codes, as an authorization server that issues codes uses
// it: RedeemCode creates grants that Rotate serves, and revokes them.
type FullStore interface {
	tokenstore.Store
	tokenstore.CodeStore
}

// RunCodes runs the conformance suite of tokenstore.CodeStore against the
// stores made by newStore, as subtests of t, like Run: every subtest calls
// newStore for an empty store of its own, and the suite runs with a fixed
// clock and with the wall clock. It covers CreateCode, every rule of
// RedeemCode and their order (see tokenstore.RedeemRequest): the grant
// and first refresh token a redemption creates, the binding to the
// redirect URI and the code challenge, the revocation of the grant made
// from a code presented twice (or the revoked placeholder of a code
// consumed by a refused presentation); CreateLaunch and ConsumeLaunch,
// the distinctness of the sentinel errors, canceled contexts, and races:
// Presenters concurrent redemptions of one code (Now values up to
// ClockSkew apart) yield exactly one success, whose grant ends revoked and
// whose refresh token is refused; Presenters concurrent ConsumeLaunch
// calls yield exactly one launch.
//
// It expects of the stores what Run does (see the package documentation);
// it presents codes up to 5 minutes after their ExpiresAt, within
// tokenstore.CodeRetention.
func RunCodes(t *testing.T, newStore func(t *testing.T) FullStore) {
	t.Helper()
	for _, c := range clocks() {
		t.Run(c.name, func(t *testing.T) {
			for _, g := range codeGroups() {
				t.Run(g.name, func(t *testing.T) {
					for _, tc := range g.tests {
						t.Run(tc.name, func(t *testing.T) {
							tc.run(t, codeHarness{newStore: newStore, base: c.base()})
						})
					}
				})
			}
		})
	}
}

// codeHarness is what every test of RunCodes is given.
type codeHarness struct {
	// newStore returns a new empty store.
	newStore func(t *testing.T) FullStore
	// base is the time the test starts at; it is a multiple of Precision.
	base time.Time
}

// at returns the base time plus d.
func (h codeHarness) at(d time.Duration) time.Time { return h.base.Add(d) }

// codeTest is one test of RunCodes.
type codeTest struct {
	name string
	run  func(t *testing.T, h codeHarness)
}

// codeGroup is a named list of codeTests, run as a subtest of its own.
type codeGroup struct {
	name  string
	tests []codeTest
}

func codeGroups() []codeGroup {
	return []codeGroup{
		{"CreateCode", createCodeTests()},
		{"RedeemCode", redeemCodeTests()},
		{"CodeReuse", codeReuseTests()},
		{"Launch", launchTests()},
		{"Errors", codeErrorTests()},
		{"Concurrency", codeConcurrencyTests()},
	}
}

// CodeLifetime is the lifetime of the codes made by NewCode: the longest
// an authorization server may give them.
const CodeLifetime = 60 * time.Second

// LaunchLifetime is the lifetime of the launches made by NewLaunch.
const LaunchLifetime = 5 * time.Minute

// RedirectURI is the redirect URI of the codes made by NewCode.
const RedirectURI = "https://app.example.org/callback"

// CodeVerifier is the PKCE code_verifier whose S256 challenge,
// CodeChallenge, the codes made by NewCode carry (the example of RFC 7636
// Appendix B).
const CodeVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

// CodeChallenge is the S256 code_challenge of CodeVerifier:
// BASE64URL(SHA256(CodeVerifier)).
const CodeChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

// NewCode returns a new, unused authorization code for ClientID with a new
// grant ID and every field set: issued at now, expiring CodeLifetime
// later, user authenticated a minute before now. Its Hash is that of a
// value made by tokenstore.NewRefreshToken(GrantID): present it with
// CodeRef. Tests adjust the fields they care about before storing it.
func NewCode(now time.Time) tokenstore.AuthorizationCode {
	grantID := tokenstore.NewID()
	_, ref := tokenstore.NewRefreshToken(grantID)
	return tokenstore.AuthorizationCode{
		Hash:          ref.Hash,
		GrantID:       grantID,
		ClientID:      ClientID,
		RedirectURI:   RedirectURI,
		CodeChallenge: CodeChallenge,
		Scope:         "openid fhirUser offline_access launch patient/*.rs",
		Subject:       "user-7f3a",
		FHIRUser:      "https://fhir.example.org/r4/Practitioner/p-1",
		LaunchContext: []byte(`{"patient":"p-123","encounter":"e-456","need_patient_banner":true}`),
		Nonce:         "n-0S6_WzA2Mj",
		AuthTime:      now.Add(-time.Minute),
		IssuedAt:      now,
		ExpiresAt:     now.Add(CodeLifetime),
	}
}

// CodeRef returns the TokenRef a client presenting c sends: its Hash and
// its GrantID, as tokenstore.ParseRefreshToken returns them for the value.
func CodeRef(c tokenstore.AuthorizationCode) tokenstore.TokenRef {
	return tokenstore.TokenRef{Hash: c.Hash, GrantID: c.GrantID}
}

// Redemption returns the RedeemRequest of c's client presenting c at now
// with the right binding, as an authorization server makes it from a
// token request that repeats the authorization request's redirect URI
// and sends CodeVerifier: RedirectURI c.RedirectURI, ClientRedirectURIs
// {RedirectURI}, CodeChallenge, and the Grant of GrantTemplate(now).
// Tests adjust the fields they care about.
func Redemption(c tokenstore.AuthorizationCode, now time.Time) tokenstore.RedeemRequest {
	return tokenstore.RedeemRequest{
		Code:               CodeRef(c),
		ClientID:           c.ClientID,
		Now:                now,
		RedirectURI:        c.RedirectURI,
		ClientRedirectURIs: []string{RedirectURI},
		CodeChallenge:      CodeChallenge,
		Grant:              GrantTemplate(now),
	}
}

// GrantTemplate returns a RedeemRequest.Grant that gives the grant of a
// code redeemed at now what GrantFromCode says (offline, GrantLifetime,
// no idle timeout) and a new first refresh token whose value names it
// (tokenstore.NewRefreshToken): RedeemResult.Token holds its record.
func GrantTemplate(now time.Time) func(tokenstore.AuthorizationCode) tokenstore.GrantTemplate {
	return func(c tokenstore.AuthorizationCode) tokenstore.GrantTemplate {
		_, ref := tokenstore.NewRefreshToken(c.GrantID)
		return tokenstore.GrantTemplate{
			ExpiresAt:    now.Add(GrantLifetime),
			Kind:         tokenstore.KindOffline,
			RefreshToken: ref.Hash,
		}
	}
}

// GrantFromCode returns the grant RedeemCode creates when it redeems c at
// now with the Grant of GrantTemplate: ID c.GrantID, with c's client,
// user, scope and launch context, offline, for GrantLifetime. It is
// also the grant an authorization server would create for c with
// CreateGrant.
func GrantFromCode(c tokenstore.AuthorizationCode, now time.Time) tokenstore.Grant {
	return tokenstore.Grant{
		ID:            c.GrantID,
		ClientID:      c.ClientID,
		Subject:       c.Subject,
		FHIRUser:      c.FHIRUser,
		Scope:         c.Scope,
		LaunchContext: c.LaunchContext,
		IssuedAt:      now,
		ExpiresAt:     now.Add(GrantLifetime),
		Kind:          tokenstore.KindOffline,
	}
}

// NewLaunch returns a new launch for ClientID, issued at now and expiring
// LaunchLifetime later, with a JSON launch context and a random value's
// Hash: present it with LaunchRef.
func NewLaunch(now time.Time) tokenstore.Launch {
	return tokenstore.Launch{
		Hash:          NewHash(),
		ClientID:      ClientID,
		LaunchContext: []byte(`{"patient":"p-123","encounter":"e-456","intent":"reconcile-medications"}`),
		IssuedAt:      now,
		ExpiresAt:     now.Add(LaunchLifetime),
	}
}

// LaunchRef returns the TokenRef of l's value (which names no grant).
func LaunchRef(l tokenstore.Launch) tokenstore.TokenRef {
	return tokenstore.TokenRef{Hash: l.Hash}
}
