package endpointtest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// Parameters of the concurrent code exchange test.
const (
	codePresenters = 50
	codeRounds     = 5
	codeRedirect   = "https://app.example.com/callback"
	codeVerifier   = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

// codeInstance is an authorization endpoint and a token endpoint with the
// authorization_code grant on one store, auditing into a shared log, and
// a resource server that accepts the access tokens of its key set with
// the revocation check on the store.
type codeInstance struct {
	authz    *authserver.AuthorizationHandler
	tokens   *authserver.TokenHandler
	resource http.Handler
}

// codeAudit records the audit events of the instances.
type codeAudit struct {
	mu     sync.Mutex
	events []authserver.AuditEvent
}

func (a *codeAudit) record(_ context.Context, e authserver.AuditEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

func (a *codeAudit) count(kind, reason string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.events {
		if e.Kind == kind && (reason == "" || e.Reason == reason) {
			n++
		}
	}
	return n
}

// newCodeInstance returns the endpoints on store for the public client
// clientID with the redirect URI codeRedirect, signing with signer; its
// steps answer at once.
func newCodeInstance(t *testing.T, store tokenstore.Store, signer *authserver.KeySet, audit *codeAudit) codeInstance {
	t.Helper()
	as, ok := store.(authserver.AuthorizationStore)
	require.True(t, ok, "%T is not a CodeStore", store)
	clients, err := authserver.NewStaticClients(authserver.Client{
		ID: clientID, AuthMethod: authserver.AuthNone, RedirectURIs: []string{codeRedirect},
	})
	require.NoError(t, err)
	auth, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients: clients, TokenEndpoint: tokenEndpoint, Replay: store,
	})
	require.NoError(t, err)
	tokens, err := authserver.NewTokenHandler(authserver.TokenConfig{
		Issuer: issuer, Audience: audience, Store: store, Clients: auth, Keys: signer,
		Grants: []authserver.GrantHandler{authserver.NewCodeGrant(as)},
		Audit:  audit.record, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	authz, err := authserver.NewAuthorizationHandler(authserver.AuthorizationConfig{
		Endpoint: issuer + "/authorize", Issuer: issuer, Audience: audience, Clients: clients, Store: as,
		Login: authserver.LoginFunc(func(http.ResponseWriter, *http.Request, *authserver.Interaction) (authserver.User, bool, error) {
			return authserver.User{Subject: "user-1"}, true, nil
		}),
		Patients: authserver.PatientPickerFunc(func(http.ResponseWriter, *http.Request, *authserver.Interaction) (authserver.PatientSelection, bool, error) {
			return authserver.PatientSelection{Patient: "pat-123"}, true, nil
		}),
		Consent: authserver.ConsentFunc(func(_ http.ResponseWriter, _ *http.Request, in *authserver.Interaction) (string, bool, error) {
			return in.Scope, true, nil
		}),
		Audit: audit.record, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	verifier, err := signer.AccessTokenVerifier(middleware.JWTConfig{Issuers: []string{issuer}, Audience: audience})
	require.NoError(t, err)
	resource := middleware.Authenticate(verifier, middleware.WithRevocationCheck(store, time.Minute))(
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	return codeInstance{authz: authz, tokens: tokens, resource: resource}
}

// issueCode runs an authorization at inst and returns the code.
func issueCode(t *testing.T, inst codeInstance) string {
	t.Helper()
	sum := sha256.Sum256([]byte(codeVerifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {codeRedirect},
		"scope": {grantScope}, "state": {"s-1"}, "aud": {audience},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	rec := httptest.NewRecorder()
	inst.authz.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, issuer+"/authorize?"+q.Encode(), nil))
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc, err := url.Parse(rec.Header().Get("Location"))
	require.NoError(t, err)
	code := loc.Query().Get("code")
	require.NotEmpty(t, code, loc.String())
	return code
}

// exchangeCode posts the code to h.
func exchangeCode(h http.Handler, code string) *httptest.ResponseRecorder {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {codeVerifier},
		"redirect_uri": {codeRedirect}, "client_id": {clientID}}
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestConcurrentCodeExchange: on every store, codeRounds times, 50
// simultaneous exchanges of one code through two instances: exactly one
// redeems it and gets the tokens (the store redeems the code and creates
// the grant in one atomic operation), the 49 others are reuse; the grant
// ends revoked, so the one success's access token is refused by a
// resource server with the revocation check (on either instance) and its
// refresh token is invalid_grant.
func TestConcurrentCodeExchange(t *testing.T) {
	for name, pair := range storePairs() {
		t.Run(name, func(t *testing.T) {
			a, b := pair(t)
			key, err := authserver.GenerateSigningKey("ES256")
			require.NoError(t, err)
			signer, err := authserver.NewKeySet(key)
			require.NoError(t, err)
			audit := &codeAudit{}
			instances := [2]codeInstance{newCodeInstance(t, a, signer, audit), newCodeInstance(t, b, signer, audit)}
			perRound := make([]int, codeRounds)
			for rep := range codeRounds {
				code := issueCode(t, instances[rep%2])
				exchangedBefore := audit.count(authserver.AuditCodeExchanged, "")
				reusedBefore := audit.count(authserver.AuditCodeReused, "")
				recs := make([]*httptest.ResponseRecorder, codePresenters)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range codePresenters {
					wg.Go(func() {
						<-start
						recs[i] = exchangeCode(instances[i%2].tokens, code)
					})
				}
				close(start)
				wg.Wait()

				var ok []tokenResponse
				for _, rec := range recs {
					if rec.Code == http.StatusOK {
						ok = append(ok, requireRefreshed(t, rec))
						continue
					}
					requireOAuthError(t, rec, http.StatusBadRequest, "invalid_grant",
						"the authorization code is invalid, expired or already used")
				}
				perRound[rep] = len(ok)
				require.Len(t, ok, 1, "round %d: exactly one exchange gets tokens", rep)
				assert.Equal(t, 1, audit.count(authserver.AuditCodeExchanged, "")-exchangedBefore)
				assert.Equal(t, codePresenters-1, audit.count(authserver.AuditCodeReused, "")-reusedBefore)
				grantID := tokenstore.ParseRefreshToken(code).GrantID
				g, err := a.Grant(context.Background(), grantID)
				require.NoError(t, err)
				assert.True(t, g.Revoked, "the grant of a code used twice is revoked")

				resp := ok[0]
				require.Equal(t, grantID, tokenstore.ParseRefreshToken(resp.RefreshToken).GrantID)
				for i, inst := range instances {
					req := httptest.NewRequest(http.MethodGet, audience+"/Patient/pat-123", nil)
					req.Header.Set("Authorization", "Bearer "+resp.AccessToken)
					rec := httptest.NewRecorder()
					inst.resource.ServeHTTP(rec, req)
					assert.Equal(t, http.StatusUnauthorized, rec.Code, "instance %d accepted the access token of a revoked grant", i)
				}
				form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {resp.RefreshToken}, "client_id": {clientID}}
				req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				instances[rep%2].tokens.ServeHTTP(rec, req)
				requireOAuthError(t, rec, http.StatusBadRequest, "invalid_grant", "the refresh token is invalid, expired or revoked")
			}
			t.Logf("%s: 200s per round of %d exchanges: %v; every grant revoked, its tokens refused", name, codePresenters, perRound)
		})
	}
}
