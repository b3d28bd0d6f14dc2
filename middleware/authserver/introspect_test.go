package authserver_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/middleware/scope"
	"github.com/smartauth/smartauth/tokenstore"
)

// Exact bodies of the introspection and revocation endpoints.
const (
	bodyInactive      = `{"active":false}`
	bodyClientAuth    = `{"error":"invalid_client","error_description":"client authentication failed"}` + "\n"
	bodyTokenRequired = `{"error":"invalid_request","error_description":"token is required"}` + "\n"
)

// errFaultyStoreDown is the failure of a faultyStore.
var errFaultyStoreDown = errors.New("test store down")

// faultyStore is a Store whose reads and revocations fail while down is
// set, and hang, ignoring their context, between block and unblock.
type faultyStore struct {
	tokenstore.Store
	down atomic.Bool

	mu      sync.Mutex
	blocked chan struct{} // closed by unblock; nil: not blocked
}

// block makes the next reads and revocations hang until unblock.
func (s *faultyStore) block() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blocked == nil {
		s.blocked = make(chan struct{})
	}
}

// unblock releases the hanging calls.
func (s *faultyStore) unblock() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blocked != nil {
		close(s.blocked)
		s.blocked = nil
	}
}

// fault hangs while the store is blocked, and reports whether it is down.
func (s *faultyStore) fault() bool {
	s.mu.Lock()
	ch := s.blocked
	s.mu.Unlock()
	if ch != nil {
		<-ch
	}
	return s.down.Load()
}

func (s *faultyStore) LookupToken(ctx context.Context, h tokenstore.TokenRef) (tokenstore.Grant, tokenstore.RefreshToken, error) {
	if s.fault() {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, errFaultyStoreDown
	}
	return s.Store.LookupToken(ctx, h)
}

func (s *faultyStore) Grant(ctx context.Context, id string) (tokenstore.Grant, error) {
	if s.fault() {
		return tokenstore.Grant{}, errFaultyStoreDown
	}
	return s.Store.Grant(ctx, id)
}

func (s *faultyStore) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	if s.fault() {
		return errFaultyStoreDown
	}
	return s.Store.RevokeGrant(ctx, id, now)
}

// endpointsEnv is a token endpoint (env) with introspection and revocation
// endpoints over the same store, keys, clients and clock.
type endpointsEnv struct {
	*env
	faulty *faultyStore
	ix     *authserver.IntrospectionHandler
	rv     *authserver.RevocationHandler
}

// newEndpointsEnv builds the endpoints; ixMod and rvMod, if not nil, adjust
// the configurations.
func newEndpointsEnv(t testing.TB, ixMod func(*authserver.IntrospectionConfig), rvMod func(*authserver.RevocationConfig)) *endpointsEnv {
	t.Helper()
	x := &endpointsEnv{}
	x.env = newEnv(t, func(c *authserver.TokenConfig) {
		x.faulty = &faultyStore{Store: c.Store}
		c.Store = x.faulty
	})
	clients := testClients(t, x.store, x.clock.Now)
	ixCfg := authserver.IntrospectionConfig{
		Issuer: testIssuer, Audience: testAudience, Store: x.store, Keys: x.keys, Clients: clients,
		AllowedClients: []string{clientA, clientB, clientPost},
		Audit:          x.audit.record, Logger: slog.New(slog.DiscardHandler), Now: x.clock.Now,
	}
	if ixMod != nil {
		ixMod(&ixCfg)
	}
	ix, err := authserver.NewIntrospectionHandler(ixCfg)
	require.NoError(t, err)
	rvCfg := authserver.RevocationConfig{
		Issuer: testIssuer, Audience: testAudience, Store: x.store, Keys: x.keys, Clients: clients,
		Audit: x.audit.record, Logger: slog.New(slog.DiscardHandler), Now: x.clock.Now,
	}
	if rvMod != nil {
		rvMod(&rvCfg)
	}
	rv, err := authserver.NewRevocationHandler(rvCfg)
	require.NoError(t, err)
	x.ix, x.rv = ix, rv
	return x
}

func formPost(h http.Handler, target string, form url.Values, opts ...func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// introspect sends an introspection request; without options it
// authenticates as client A.
func (x *endpointsEnv) introspect(form url.Values, opts ...func(*http.Request)) *httptest.ResponseRecorder {
	if opts == nil {
		opts = append(opts, basic(clientA, clientASecret))
	}
	return formPost(x.ix, "https://auth.example.org/introspect", form, opts...)
}

// introspectToken introspects token as client A with an optional hint and
// returns the body, requiring 200 and the no-store headers.
func (x *endpointsEnv) introspectToken(t testing.TB, token, hint string) string {
	t.Helper()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	rec := x.introspect(form)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
	return rec.Body.String()
}

// fullLaunch is a launch context with every SMART parameter, and an
// explicit false need_patient_banner.
func fullLaunch() authserver.Launch {
	banner := false
	return authserver.Launch{
		Patient:   "pat-123",
		Encounter: "enc-456",
		FHIRContext: []middleware.FHIRContextItem{
			{Reference: "Observation/obs-1", Role: "https://example.org/role/focus"},
			{Canonical: "https://example.org/Questionnaire/q|1", Type: "Questionnaire"},
		},
		NeedPatientBanner: &banner,
		SmartStyleURL:     "https://ehr.example.org/style.json",
		Intent:            "reconcile-medications",
		Tenant:            "tenant-1",
	}
}

const (
	fullLaunchJSON = `"patient":"pat-123","encounter":"enc-456",` +
		`"fhirContext":[{"reference":"Observation/obs-1","role":"https://example.org/role/focus"},` +
		`{"canonical":"https://example.org/Questionnaire/q|1","type":"Questionnaire"}],` +
		`"need_patient_banner":false,"smart_style_url":"https://ehr.example.org/style.json",` +
		`"intent":"reconcile-medications","tenant":"tenant-1"`
	testFHIRUser = "https://fhir.example.org/r4/Practitioner/77"
)

// launchGrant creates a grant with fullLaunch for client and scope, and
// refreshes it once as that client: it returns the first (now used)
// refresh token, the token response and the grant ID.
func (x *endpointsEnv) launchGrant(t testing.TB, client, secret, scope string) (usedRT string, tr authserver.TokenResponse, grantID string) {
	t.Helper()
	rt, grantID, err := x.h.CreateGrant(context.Background(), authserver.NewGrant{
		ClientID: client, Subject: "user-1", FHIRUser: testFHIRUser, Scope: scope, Launch: fullLaunch(),
	})
	require.NoError(t, err)
	rec := x.post(refreshForm(rt), basic(client, secret))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	return rt, decodeTokenResponse(t, rec), grantID
}

// resign signs the claims of token, changed by mod, with ks.
func resign(t testing.TB, ks *authserver.KeySet, typ, token string, mod func(map[string]any)) string {
	t.Helper()
	claims := maps.Clone(jwtPart(t, token, 1))
	if mod != nil {
		mod(claims)
	}
	s, err := ks.Sign(typ, claims)
	require.NoError(t, err)
	return s
}

func TestIntrospectActiveTokens(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	_, tr, _ := x.launchGrant(t, clientA, clientASecret, testScope)
	jti := jwtPart(t, tr.AccessToken, 1)["jti"].(string)
	iat := testStart.Unix()

	wantAccess := fmt.Sprintf(`{"active":true,"scope":%q,"client_id":"app-a","token_type":"Bearer","exp":%d,"iat":%d,`+
		`"sub":"user-1","aud":["https://fhir.example.org/r4"],"iss":"https://auth.example.org","jti":%q,`+
		`"fhirUser":%q,%s}`, testScope, iat+3600, iat, jti, testFHIRUser, fullLaunchJSON)
	wantRefresh := fmt.Sprintf(`{"active":true,"scope":%q,"client_id":"app-a","token_type":"refresh_token","exp":%d,"iat":%d,`+
		`"sub":"user-1","iss":"https://auth.example.org","fhirUser":%q,%s}`,
		testScope, testStart.Add(authserver.DefaultOfflineIdle).Unix(), iat, testFHIRUser, fullLaunchJSON)

	tests := []struct {
		name, token, hint, want string
	}{
		{"access token", tr.AccessToken, "", wantAccess},
		{"access token, hint access_token", tr.AccessToken, "access_token", wantAccess},
		{"access token, wrong hint", tr.AccessToken, "refresh_token", wantAccess},
		{"access token, unknown hint", tr.AccessToken, "id_token", wantAccess},
		{"refresh token", tr.RefreshToken, "", wantRefresh},
		{"refresh token, hint refresh_token", tr.RefreshToken, "refresh_token", wantRefresh},
		{"refresh token, wrong hint", tr.RefreshToken, "access_token", wantRefresh},
		{"refresh token, unknown hint", tr.RefreshToken, "urn:x", wantRefresh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, x.introspectToken(t, tt.token, tt.hint))
		})
	}
}

func TestIntrospectMinimalGrant(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	// No user, no launch context, online grant: sub is the client.
	rt, _, err := x.h.CreateGrant(context.Background(), authserver.NewGrant{ClientID: clientA, Scope: "system/*.rs"})
	require.NoError(t, err)
	want := fmt.Sprintf(`{"active":true,"scope":"system/*.rs","client_id":"app-a","token_type":"refresh_token",`+
		`"exp":%d,"iat":%d,"sub":"app-a","iss":"https://auth.example.org"}`,
		testStart.Add(authserver.DefaultOnlineIdle).Unix(), testStart.Unix())
	assert.Equal(t, want, x.introspectToken(t, rt, ""))

	tr := x.refreshOK(rt)
	jti := jwtPart(t, tr.AccessToken, 1)["jti"].(string)
	want = fmt.Sprintf(`{"active":true,"scope":"system/*.rs","client_id":"app-a","token_type":"Bearer","exp":%d,"iat":%d,`+
		`"sub":"app-a","aud":["https://fhir.example.org/r4"],"iss":"https://auth.example.org","jti":%q}`,
		testStart.Add(time.Hour).Unix(), testStart.Unix(), jti)
	assert.Equal(t, want, x.introspectToken(t, tr.AccessToken, ""))

	// A token of ours without grant_id cannot be revoked; it is active
	// while it verifies.
	noGrant := resign(t, x.keys, authserver.TypeAccessToken, tr.AccessToken, func(c map[string]any) { delete(c, "grant_id") })
	assert.Equal(t, want, x.introspectToken(t, noGrant, ""))
}

func TestIntrospectInactiveTokens(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	usedRT, tr, _ := x.launchGrant(t, clientA, clientASecret, testScope)
	at := tr.AccessToken

	otherKeys, err := authserver.NewKeySet(testKey(t, "ES384"))
	require.NoError(t, err)
	otherES256, err := authserver.GenerateSigningKey("ES256")
	require.NoError(t, err)
	sameKID, err := authserver.NewKeySet(authserver.SigningKey{ID: x.keys.ActiveKeyID(), Algorithm: "ES256", Key: otherES256.Key})
	require.NoError(t, err)
	payload := strings.Split(at, ".")[1]

	tests := []struct {
		name, token string
	}{
		{"unknown opaque token", "dGhpcyBpcyBub3QgYSB0b2tlbiBvZiBvdXJz0123456789"},
		{"unknown short token", "x"},
		{"malformed JWT", "abc.def.ghi"},
		{"used (rotated) refresh token", usedRT},
		{"other key", resign(t, otherKeys, authserver.TypeAccessToken, at, nil)},
		{"other key with our kid", resign(t, sameKID, authserver.TypeAccessToken, at, nil)},
		{"other issuer", resign(t, x.keys, authserver.TypeAccessToken, at, func(c map[string]any) { c["iss"] = "https://evil.example.org" })},
		{"other audience", resign(t, x.keys, authserver.TypeAccessToken, at, func(c map[string]any) { c["aud"] = "https://other.example.org/fhir" })},
		{"not an access token (typ JWT)", resign(t, x.keys, authserver.TypeJWT, at, nil)},
		{"unknown grant", resign(t, x.keys, authserver.TypeAccessToken, at, func(c map[string]any) { c["grant_id"] = "no-such-grant" })},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + payload + "."},
		{"tampered signature", at[:len(at)-4] + "AAAA"},
		{"too large", strings.Repeat("a", middleware.DefaultMaxTokenSize+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, hint := range []string{"", "access_token", "refresh_token"} {
				assert.Equal(t, bodyInactive, x.introspectToken(t, tt.token, hint), "hint %q", hint)
			}
		})
	}
}

func TestIntrospectExpiry(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	_, tr, _ := x.launchGrant(t, clientA, clientASecret, testScope)
	x.clock.Advance(time.Hour) // exp reached
	assert.Equal(t, bodyInactive, x.introspectToken(t, tr.AccessToken, ""))
	assert.Contains(t, x.introspectToken(t, tr.RefreshToken, ""), `"active":true`)
	x.clock.Advance(authserver.DefaultOfflineIdle - time.Hour) // idle expiry reached
	assert.Equal(t, bodyInactive, x.introspectToken(t, tr.RefreshToken, ""))
}

func TestIntrospectRevokedGrant(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	_, tr, grantID := x.launchGrant(t, clientA, clientASecret, testScope)
	require.NoError(t, x.store.RevokeGrant(context.Background(), grantID, testStart))
	assert.Equal(t, bodyInactive, x.introspectToken(t, tr.AccessToken, ""))
	assert.Equal(t, bodyInactive, x.introspectToken(t, tr.RefreshToken, ""))
}

func TestIntrospectReuseRevokesFamily(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	usedRT, tr, _ := x.launchGrant(t, clientA, clientASecret, testScope)
	tr2 := x.refreshOK(tr.RefreshToken)
	require.Equal(t, http.StatusBadRequest, x.refresh(usedRT).Code) // reuse: family revoked
	for _, tok := range []string{tr.RefreshToken, tr.AccessToken, tr2.RefreshToken, tr2.AccessToken} {
		assert.Equal(t, bodyInactive, x.introspectToken(t, tok, ""))
	}
}

func TestIntrospectFollowsKeyRotation(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	_, tr, _ := x.launchGrant(t, clientA, clientASecret, testScope)
	require.NoError(t, x.keys.Rotate(testKey(t, "RS256"), testStart.Add(time.Hour)))
	next := x.refreshOK(tr.RefreshToken) // signed with the new key
	assert.Contains(t, x.introspectToken(t, tr.AccessToken, ""), `"active":true`)
	assert.Contains(t, x.introspectToken(t, next.AccessToken, ""), `"active":true`)

	// Once the retired key is unpublished its tokens are refused (they
	// have expired by then anyway; re-sign one that has not).
	x.clock.Advance(time.Hour)
	fresh := x.refreshOK(next.RefreshToken)
	retired, err := authserver.NewKeySet(testKey(t, "ES256"))
	require.NoError(t, err)
	old := resign(t, retired, authserver.TypeAccessToken, fresh.AccessToken, nil)
	assert.Equal(t, bodyInactive, x.introspectToken(t, old, ""))
	assert.Contains(t, x.introspectToken(t, fresh.AccessToken, ""), `"active":true`)
}

func TestIntrospectCallerAuthentication(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	_, tr, _ := x.launchGrant(t, clientA, clientASecret, testScope)
	_, withScope, _ := x.launchGrant(t, clientB, clientBSecret, "introspect")
	_, withoutScope, _ := x.launchGrant(t, clientB, clientBSecret, "patient/*.rs")
	active := x.introspectToken(t, tr.AccessToken, "")
	token := url.Values{"token": {tr.AccessToken}}

	const (
		bodyPublic       = `{"error":"invalid_client","error_description":"only confidential clients may introspect tokens"}` + "\n"
		bodyInvalidToken = `{"error":"invalid_token","error_description":"the access token is invalid"}` + "\n"
		bodyNoScope      = `{"error":"insufficient_scope","error_description":"the access token does not allow introspection"}` + "\n"
		bodyTwoMethods   = `{"error":"invalid_request","error_description":"more than one authentication method"}` + "\n"
	)
	tests := []struct {
		name       string
		form       url.Values
		opts       []func(*http.Request)
		wantStatus int
		wantBody   string
		wantAuthn  string
	}{
		{"client_secret_basic", token, opts(basic(clientB, clientBSecret)), http.StatusOK, active, ""},
		{"client_secret_post", url.Values{"token": {tr.AccessToken}, "client_id": {clientPost}, "client_secret": {clientPostSec}},
			opts(), http.StatusOK, active, ""},
		{"bearer with scope", token, opts(header("Authorization", "Bearer "+withScope.AccessToken)), http.StatusOK, active, ""},
		{"bearer scheme case-insensitive", token, opts(header("Authorization", "bearer "+withScope.AccessToken)), http.StatusOK, active, ""},
		{"no credentials", token, opts(), http.StatusUnauthorized, bodyClientAuth, ""},
		{"public client", url.Values{"token": {tr.AccessToken}, "client_id": {clientPublic}}, opts(),
			http.StatusUnauthorized, bodyPublic, ""},
		{"wrong secret", token, opts(basic(clientA, "wrong")), http.StatusUnauthorized, bodyClientAuth,
			`Basic realm="token", charset="UTF-8"`},
		{"unknown client", token, opts(basic("nobody", "x")), http.StatusUnauthorized, bodyClientAuth,
			`Basic realm="token", charset="UTF-8"`},
		{"bearer without scope", token, opts(header("Authorization", "Bearer "+withoutScope.AccessToken)),
			http.StatusForbidden, bodyNoScope,
			`Bearer error="insufficient_scope", error_description="the access token does not allow introspection", scope="introspect"`},
		{"bad bearer", token, opts(header("Authorization", "Bearer "+tr.AccessToken[:len(tr.AccessToken)-3]+"xyz")),
			http.StatusUnauthorized, bodyInvalidToken, `Bearer error="invalid_token", error_description="the access token is invalid"`},
		{"malformed bearer", token, opts(header("Authorization", "Bearer a b")),
			http.StatusUnauthorized, bodyInvalidToken, `Bearer error="invalid_token", error_description="the access token is invalid"`},
		{"empty bearer", token, opts(header("Authorization", "Bearer ")),
			http.StatusUnauthorized, bodyInvalidToken, `Bearer error="invalid_token", error_description="the access token is invalid"`},
		{"the introspected token as bearer", token, opts(header("Authorization", "Bearer "+tr.AccessToken)),
			http.StatusForbidden, bodyNoScope,
			`Bearer error="insufficient_scope", error_description="the access token does not allow introspection", scope="introspect"`},
		{"bearer and client secret", url.Values{"token": {tr.AccessToken}, "client_id": {clientPost}, "client_secret": {clientPostSec}},
			opts(header("Authorization", "Bearer "+withScope.AccessToken)), http.StatusBadRequest, bodyTwoMethods, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := formPost(x.ix, "https://auth.example.org/introspect", tt.form, tt.opts...)
			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, tt.wantBody, rec.Body.String())
			assert.Equal(t, tt.wantAuthn, rec.Header().Get("WWW-Authenticate"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		})
	}

	// A bearer whose grant is revoked is refused.
	grantOf := jwtPart(t, withScope.AccessToken, 1)["grant_id"].(string)
	require.NoError(t, x.store.RevokeGrant(context.Background(), grantOf, testStart))
	rec := formPost(x.ix, "https://auth.example.org/introspect", token, header("Authorization", "Bearer "+withScope.AccessToken))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, bodyInvalidToken, rec.Body.String())
}

func TestIntrospectCallerPolicies(t *testing.T) {
	t.Run("allowed clients", func(t *testing.T) {
		x := newEndpointsEnv(t, func(c *authserver.IntrospectionConfig) { c.AllowedClients = []string{clientB} }, nil)
		rt := x.grant(clientA, testScope)
		form := url.Values{"token": {rt}}
		rec := x.introspect(form, basic(clientB, clientBSecret))
		assert.Equal(t, http.StatusOK, rec.Code)
		rec = x.introspect(form, basic(clientA, clientASecret))
		assert.Equal(t, http.StatusForbidden, rec.Code)
		assert.Equal(t, `{"error":"unauthorized_client","error_description":"the client is not allowed to introspect tokens"}`+"\n", rec.Body.String())
		last := x.audit.events[len(x.audit.events)-1]
		assert.Equal(t, authserver.AuditEvent{Kind: authserver.AuditIntrospectionRefused, ClientID: clientA, Time: testStart}, last)
	})
	t.Run("any confidential client", func(t *testing.T) {
		x := newEndpointsEnv(t, func(c *authserver.IntrospectionConfig) {
			c.AllowedClients, c.AllowAnyConfidentialClient = nil, true
		}, nil)
		rt := x.grant(clientA, testScope)
		form := url.Values{"token": {rt}}
		for _, auth := range []func(*http.Request){basic(clientA, clientASecret), basic(clientB, clientBSecret)} {
			rec := x.introspect(form, auth)
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Contains(t, rec.Body.String(), `"active":true`)
		}
		rec := x.introspect(url.Values{"token": {rt}, "client_id": {clientPublic}}, func(*http.Request) {})
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
	})
	t.Run("bearer disabled", func(t *testing.T) {
		x := newEndpointsEnv(t, func(c *authserver.IntrospectionConfig) { c.DisableBearer = true }, nil)
		_, tr, _ := x.launchGrant(t, clientB, clientBSecret, "introspect")
		rec := x.introspect(url.Values{"token": {tr.AccessToken}}, header("Authorization", "Bearer "+tr.AccessToken))
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, bodyClientAuth, rec.Body.String())
	})
	t.Run("bearer only", func(t *testing.T) {
		x := newEndpointsEnv(t, func(c *authserver.IntrospectionConfig) { c.Clients = nil; c.BearerScope = "system/introspect" }, nil)
		_, tr, _ := x.launchGrant(t, clientB, clientBSecret, "system/introspect")
		form := url.Values{"token": {tr.AccessToken}}
		rec := x.introspect(form, header("Authorization", "Bearer "+tr.AccessToken))
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Contains(t, rec.Body.String(), `"active":true`)

		rec = x.introspect(form, basic(clientA, clientASecret))
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, "Bearer", rec.Header().Get("WWW-Authenticate"))
		assert.Equal(t, `{"error":"invalid_token","error_description":"a bearer token is required"}`+"\n", rec.Body.String())
	})
	t.Run("custom bearer verifier", func(t *testing.T) {
		var unavailable atomic.Bool
		v := middleware.VerifierFunc(func(_ context.Context, token string) (*middleware.LaunchContext, error) {
			if unavailable.Load() {
				return nil, fmt.Errorf("%w: down", middleware.ErrVerifierUnavailable)
			}
			if token != "resource-server-token" {
				return nil, middleware.ErrBadSignature
			}
			return &middleware.LaunchContext{Scopes: scope.Parse("introspect")}, nil
		})
		x := newEndpointsEnv(t, func(c *authserver.IntrospectionConfig) { c.BearerVerifier = v }, nil)
		rt := x.grant(clientA, testScope)
		form := url.Values{"token": {rt}}
		rec := x.introspect(form, header("Authorization", "Bearer resource-server-token"))
		assert.Equal(t, http.StatusOK, rec.Code)
		rec = x.introspect(form, header("Authorization", "Bearer other-token"))
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
		unavailable.Store(true)
		rec = x.introspect(form, header("Authorization", "Bearer resource-server-token"))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "1", rec.Header().Get("Retry-After"))
		assert.Equal(t, `{"error":"temporarily_unavailable","error_description":"the caller's token could not be verified; retry later"}`+"\n", rec.Body.String())
	})
}

func TestIntrospectRequestRules(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	tests := []struct {
		name       string
		method     string
		body       string
		ctype      string
		wantStatus int
		wantBody   string
		wantAllow  string
	}{
		{"missing token", http.MethodPost, "", "application/x-www-form-urlencoded", http.StatusBadRequest, bodyTokenRequired, ""},
		{"empty token", http.MethodPost, "token=", "application/x-www-form-urlencoded", http.StatusBadRequest, bodyTokenRequired, ""},
		{"duplicate token", http.MethodPost, "token=a&token=b", "application/x-www-form-urlencoded", http.StatusBadRequest,
			`{"error":"invalid_request","error_description":"a parameter is included more than once"}` + "\n", ""},
		{"JSON body", http.MethodPost, `{"token":"a"}`, "application/json", http.StatusBadRequest,
			`{"error":"invalid_request","error_description":"the content type must be application/x-www-form-urlencoded"}` + "\n", ""},
		{"GET", http.MethodGet, "", "", http.StatusMethodNotAllowed,
			`{"error":"invalid_request","error_description":"the introspection endpoint accepts only POST"}` + "\n", "POST, OPTIONS"},
		{"OPTIONS", http.MethodOptions, "", "", http.StatusNoContent, "", "POST, OPTIONS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "https://auth.example.org/introspect", strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			basic(clientA, clientASecret)(req)
			rec := httptest.NewRecorder()
			x.ix.ServeHTTP(rec, req)
			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, tt.wantBody, rec.Body.String())
			assert.Equal(t, tt.wantAllow, rec.Header().Get("Allow"))
		})
	}
}

// TestIntrospectStoreFailure: a failing store, or one that does not answer
// within StoreTimeout (even ignoring its context), is answered 503 with
// Retry-After, never with a guess.
func TestIntrospectStoreFailure(t *testing.T) {
	const body = `{"error":"temporarily_unavailable","error_description":"the token could not be looked up; retry later"}` + "\n"
	for _, mode := range []string{"failing", "silent"} {
		t.Run(mode, func(t *testing.T) {
			x := newEndpointsEnv(t, func(c *authserver.IntrospectionConfig) { c.StoreTimeout = 20 * time.Millisecond }, nil)
			_, tr, _ := x.launchGrant(t, clientA, clientASecret, testScope)
			if mode == "failing" {
				x.faulty.down.Store(true)
			} else {
				x.faulty.block()
			}
			for _, tok := range []string{tr.AccessToken, tr.RefreshToken, "unknown"} {
				rec := x.introspect(url.Values{"token": {tok}})
				assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
				assert.Equal(t, body, rec.Body.String())
				assert.Equal(t, "1", rec.Header().Get("Retry-After"))
				assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			}
			x.faulty.down.Store(false)
			x.faulty.unblock()
			assert.Contains(t, x.introspectToken(t, tr.RefreshToken, ""), `"active":true`)
		})
	}
}

func TestIntrospectCORS(t *testing.T) {
	x := newEndpointsEnv(t, func(c *authserver.IntrospectionConfig) {
		c.CORS = authserver.CORS{AllowedOrigins: []string{"https://app.example.org"}}
	}, nil)
	req := httptest.NewRequest(http.MethodOptions, "https://auth.example.org/introspect", nil)
	req.Header.Set("Origin", "https://app.example.org")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	x.ix.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, "https://app.example.org", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "POST", rec.Header().Get("Access-Control-Allow-Methods"))

	rec = x.introspect(url.Values{"token": {"x"}}, basic(clientA, clientASecret), header("Origin", "https://app.example.org"))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "https://app.example.org", rec.Header().Get("Access-Control-Allow-Origin"))
}

func TestNewIntrospectionHandlerConfig(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	valid := authserver.IntrospectionConfig{Issuer: testIssuer, Audience: testAudience, Store: x.store, Keys: x.keys,
		Clients: testClients(t, x.store, x.clock.Now), AllowedClients: []string{clientB}}
	_, err := authserver.NewIntrospectionHandler(valid)
	require.NoError(t, err)
	for _, ok := range []func(*authserver.IntrospectionConfig){
		func(c *authserver.IntrospectionConfig) { c.AllowedClients, c.AllowAnyConfidentialClient = nil, true },
		func(c *authserver.IntrospectionConfig) { c.AllowedClients, c.Clients = nil, nil }, // bearer callers only
	} {
		cfg := valid
		ok(&cfg)
		_, err := authserver.NewIntrospectionHandler(cfg)
		require.NoError(t, err)
	}
	for name, mod := range map[string]func(*authserver.IntrospectionConfig){
		"no issuer":                  func(c *authserver.IntrospectionConfig) { c.Issuer = "" },
		"no audience":                func(c *authserver.IntrospectionConfig) { c.Audience = "" },
		"no store":                   func(c *authserver.IntrospectionConfig) { c.Store = nil },
		"no keys":                    func(c *authserver.IntrospectionConfig) { c.Keys = nil },
		"no way to authenticate":     func(c *authserver.IntrospectionConfig) { c.Clients = nil; c.DisableBearer = true },
		"clients but none allowed":   func(c *authserver.IntrospectionConfig) { c.AllowedClients = nil },
		"allowed and any":            func(c *authserver.IntrospectionConfig) { c.AllowAnyConfidentialClient = true },
		"negative store timeout":     func(c *authserver.IntrospectionConfig) { c.StoreTimeout = -1 },
		"negative body size":         func(c *authserver.IntrospectionConfig) { c.MaxBodySize = -1 },
		"negative token size":        func(c *authserver.IntrospectionConfig) { c.MaxTokenSize = -1 },
		"bearer scope with space":    func(c *authserver.IntrospectionConfig) { c.BearerScope = "a b" },
		"bearer scope with a quote":  func(c *authserver.IntrospectionConfig) { c.BearerScope = `a"b` },
		"bearer scope with \\":       func(c *authserver.IntrospectionConfig) { c.BearerScope = `a\b` },
		"bearer scope not ASCII":     func(c *authserver.IntrospectionConfig) { c.BearerScope = "é" },
		"bearer scope with control":  func(c *authserver.IntrospectionConfig) { c.BearerScope = "a\nb" },
		"bearer scope with DEL char": func(c *authserver.IntrospectionConfig) { c.BearerScope = "a\x7f" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := valid
			mod(&cfg)
			h, err := authserver.NewIntrospectionHandler(cfg)
			assert.Error(t, err)
			assert.Nil(t, h)
		})
	}
}

// FuzzIntrospect sends arbitrary tokens, hints and Authorization headers:
// the endpoint never panics, and answers 200 only with {"active":false} or
// an active token's JSON.
func FuzzIntrospect(f *testing.F) {
	x := newEndpointsEnv(f, nil, nil)
	rt := x.grant(clientA, testScope)
	tr := x.refreshOK(rt)
	f.Add(tr.AccessToken, "", "Basic "+basicCredentials(clientA, clientASecret))
	f.Add(tr.RefreshToken, "refresh_token", "Basic "+basicCredentials(clientA, clientASecret))
	f.Add(rt, "access_token", "Bearer "+tr.AccessToken)
	f.Add("a.b.c", "x", "Bearer a.b.c")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, token, hint, authz string) {
		req := httptest.NewRequest(http.MethodPost, "https://auth.example.org/introspect",
			strings.NewReader(url.Values{"token": {token}, "token_type_hint": {hint}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authz != "" {
			req.Header["Authorization"] = []string{authz}
		}
		rec := httptest.NewRecorder()
		x.ix.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			body := rec.Body.String()
			if body != bodyInactive && !strings.HasPrefix(body, `{"active":true,`) {
				t.Fatalf("unexpected body %q", body)
			}
		}
		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

func basicCredentials(id, secret string) string {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	basic(id, secret)(req)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func BenchmarkIntrospect(b *testing.B) {
	x := newEndpointsEnv(b, nil, nil)
	tr := x.refreshOK(x.grant(clientA, testScope))
	for _, tc := range []struct{ name, token string }{
		{"access", tr.AccessToken}, {"refresh", tr.RefreshToken}, {"unknown", "unknown-token"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			body := url.Values{"token": {tc.token}}.Encode()
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "https://auth.example.org/introspect", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				basic(clientA, clientASecret)(req)
				rec := httptest.NewRecorder()
				x.ix.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// TestIntrospectJWTShapedRefreshToken: a grant's first refresh token may be
// fixed (a demo's configured token), for example a JWT like the SMART
// launcher's; it is found in the store after failing as an access token.
func TestIntrospectJWTShapedRefreshToken(t *testing.T) {
	x := newEndpointsEnv(t, nil, nil)
	const demoRT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJlLW9mLXRoZS1kZW1v"
	_, _, err := x.h.CreateGrant(context.Background(), authserver.NewGrant{ClientID: clientA, Scope: "patient/*.rs", RefreshToken: demoRT})
	require.NoError(t, err)
	for _, hint := range []string{"", "access_token", "refresh_token"} {
		assert.Contains(t, x.introspectToken(t, demoRT, hint), `"token_type":"refresh_token"`)
	}
	requireRevoked200(t, x.revoke(url.Values{"token": {demoRT}}))
	assert.Equal(t, bodyInactive, x.introspectToken(t, demoRT, ""))
}
