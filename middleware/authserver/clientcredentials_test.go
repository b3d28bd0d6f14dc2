package authserver_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// Clients of the client_credentials tests.
const (
	ccTokenURL   = "https://auth.example.org/token"
	ccBulk       = "bulk-client" // private_key_jwt, ES384 and RS384 keys inline
	ccBulkScope  = "system/Patient.rs system/Observation.rs system/Group.r"
	ccAll        = "bulk-all"         // private_key_jwt, system/*.rs
	ccUserOnly   = "backend-no-sys"   // private_key_jwt, user/ scopes only
	ccNoScope    = "backend-no-scope" // private_key_jwt, no registered scope
	ccBasic      = "basic-with-sys"   // client_secret_basic, system/*.rs registered
	ccBasicSec   = "secret-of-basic-with-sys-01"
	ccPost       = "post-with-sys" // client_secret_post
	ccPostSecret = "secret-of-post-with-sys-012"
	ccPublic     = "public-with-sys" // none
)

// ccKeyMaterial are the backend clients' keys, generated once.
type ccKeyMaterial struct {
	es384, other *ecdsa.PrivateKey
	rs384        *rsa.PrivateKey
}

var ccKeys = sync.OnceValue(func() ccKeyMaterial {
	ec := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return ccKeyMaterial{es384: ec(), other: ec(), rs384: rk}
})

// publicJWK returns the public JWK of key with kid.
func publicJWK(t testing.TB, key crypto.PublicKey, kid string) map[string]any {
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		pt, err := k.Bytes()
		require.NoError(t, err)
		n := (len(pt) - 1) / 2
		return map[string]any{"kty": "EC", "kid": kid, "crv": k.Curve.Params().Name, "x": b64(pt[1 : 1+n]), "y": b64(pt[1+n:])}
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	}
	t.Fatalf("unsupported key %T", key)
	return nil
}

func jwksOf(t testing.TB, keys ...map[string]any) json.RawMessage {
	b, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	return b
}

var ccJTI atomic.Int64

// assertion returns a client assertion of clientID for aud, signed with
// key (alg, kid) at now; edit, if not nil, changes the claims first.
func assertion(t testing.TB, key crypto.Signer, alg, kid, clientID, aud string, now time.Time, edit func(jwt.MapClaims)) string {
	t.Helper()
	claims := jwt.MapClaims{
		"iss": clientID, "sub": clientID, "aud": aud,
		"exp": now.Add(4 * time.Minute).Unix(), "iat": now.Unix(),
		"jti": "jti-" + strconv.FormatInt(ccJTI.Add(1), 10),
	}
	if edit != nil {
		edit(claims)
	}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// ccEnv is a token endpoint with the client_credentials grant.
type ccEnv struct {
	t     testing.TB
	h     *authserver.TokenHandler
	keys  *authserver.KeySet
	clock *clock
	audit *auditLog
}

func ccClients(t testing.TB) *authserver.StaticClients {
	k := ccKeys()
	inline := jwksOf(t, publicJWK(t, &k.es384.PublicKey, "es384-1"), publicJWK(t, &k.rs384.PublicKey, "rs384-1"))
	clients, err := authserver.NewStaticClients(
		authserver.Client{ID: ccBulk, AuthMethod: authserver.AuthPrivateKeyJWT, JWKS: inline, Scope: ccBulkScope},
		authserver.Client{ID: ccAll, AuthMethod: authserver.AuthPrivateKeyJWT, JWKS: inline, Scope: "system/*.rs"},
		authserver.Client{ID: ccUserOnly, AuthMethod: authserver.AuthPrivateKeyJWT, JWKS: inline, Scope: "user/*.rs launch"},
		authserver.Client{ID: ccNoScope, AuthMethod: authserver.AuthPrivateKeyJWT, JWKS: inline},
		authserver.Client{ID: ccBasic, AuthMethod: authserver.AuthClientSecretBasic, SecretHash: authserver.HashSecret(ccBasicSec), Scope: "system/*.rs"},
		authserver.Client{ID: ccPost, AuthMethod: authserver.AuthClientSecretPost, SecretHash: authserver.HashSecret(ccPostSecret), Scope: "system/*.rs"},
		authserver.Client{ID: ccPublic, AuthMethod: authserver.AuthNone, Scope: "system/*.rs"},
	)
	require.NoError(t, err)
	return clients
}

// newCCEnv returns a token endpoint on a memory store with the ccClients
// and the client_credentials grant; mod, if not nil, adjusts the config.
func newCCEnv(t testing.TB, mod func(*authserver.TokenConfig)) *ccEnv {
	t.Helper()
	e := &ccEnv{t: t, clock: &clock{t: testStart}, audit: &auditLog{}}
	ks, err := authserver.NewKeySet(testKey(t, "ES256"), authserver.WithKeySetClock(e.clock.Now))
	require.NoError(t, err)
	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	auth, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients: ccClients(t), TokenEndpoint: ccTokenURL, Replay: store, Now: e.clock.Now,
	})
	require.NoError(t, err)
	cfg := authserver.TokenConfig{
		Issuer: testIssuer, Audience: testAudience, Store: store, Clients: auth, Keys: ks,
		ClientCredentials: &authserver.ClientCredentialsConfig{},
		Audit:             e.audit.record,
		Logger:            slog.New(slog.DiscardHandler),
		Now:               e.clock.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	e.keys = cfg.Keys
	e.h, err = authserver.NewTokenHandler(cfg)
	require.NoError(t, err)
	return e
}

// post sends a token request with form.
func (e *ccEnv) post(form url.Values, opts ...func(*http.Request)) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, ccTokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// ccForm returns a client_credentials request authenticated by the
// assertion, with scope if not empty.
func ccForm(assertion, scope string) url.Values {
	f := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {authserver.ClientAssertionTypeJWTBearer},
		"client_assertion":      {assertion},
	}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

// es384 returns a fresh ES384 assertion of clientID at the env's time.
func (e *ccEnv) es384(clientID string) string {
	return assertion(e.t, ccKeys().es384, "ES384", "es384-1", clientID, ccTokenURL, e.clock.Now(), nil)
}

func oauthErrorBody(code, description string) string {
	b, _ := json.Marshal(map[string]string{"error": code, "error_description": description})
	return string(b)
}

// TestClientCredentialsGranted: each request is answered 200 with exactly
// access_token, token_type, expires_in and scope — the mediated scope —
// and an at+jwt access token for the client, with no launch context and
// no grant.
func TestClientCredentialsGranted(t *testing.T) {
	tests := []struct {
		name, client, scope string
		rs384               bool
		wantScope           string
		wantReduced         bool
	}{
		{name: "one registered scope", client: ccBulk, scope: "system/Patient.rs", wantScope: "system/Patient.rs"},
		{name: "every registered scope", client: ccBulk, scope: ccBulkScope, wantScope: ccBulkScope},
		{name: "RS384 assertion", client: ccBulk, scope: "system/Observation.rs", rs384: true, wantScope: "system/Observation.rs"},
		{name: "narrower permission", client: ccBulk, scope: "system/Patient.r", wantScope: "system/Patient.r"},
		{name: "constrained under unconstrained", client: ccBulk, scope: "system/Observation.rs?category=laboratory",
			wantScope: "system/Observation.rs?category=laboratory"},
		{name: "v1 read is rs", client: ccBulk, scope: "system/Patient.read", wantScope: "system/Patient.read"},
		{name: "duplicates and extra spaces", client: ccBulk, scope: " system/Patient.rs  system/Patient.rs ", wantScope: "system/Patient.rs"},
		{name: "uncovered type dropped", client: ccBulk, scope: "system/Patient.rs system/Encounter.rs",
			wantScope: "system/Patient.rs", wantReduced: true},
		{name: "uncovered permission dropped", client: ccBulk, scope: "system/Group.rs system/Observation.rs",
			wantScope: "system/Observation.rs", wantReduced: true},
		{name: "wildcard under wildcard", client: ccAll, scope: "system/*.rs", wantScope: "system/*.rs"},
		{name: "v1 wildcard under v2 wildcard", client: ccAll, scope: "system/*.read", wantScope: "system/*.read"},
		{name: "type under wildcard", client: ccAll, scope: "system/Condition.s", wantScope: "system/Condition.s"},
		{name: "write dropped under read-only", client: ccAll, scope: "system/*.cruds system/Patient.rs",
			wantScope: "system/Patient.rs", wantReduced: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCCEnv(t, nil)
			a := e.es384(tt.client)
			if tt.rs384 {
				a = assertion(t, ccKeys().rs384, "RS384", "rs384-1", tt.client, ccTokenURL, e.clock.Now(), nil)
			}
			rec := e.post(ccForm(a, tt.scope))
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))

			var body map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			at, _ := body["access_token"].(string)
			require.NotEmpty(t, at)
			assert.Equal(t, map[string]any{
				"access_token": at, "token_type": "Bearer", "expires_in": float64(300), "scope": tt.wantScope,
			}, body)

			assert.Equal(t, map[string]any{"alg": "ES256", "kid": e.keys.ActiveKeyID(), "typ": "at+jwt"}, jwtPart(t, at, 0))
			claims := jwtPart(t, at, 1)
			jti, _ := claims["jti"].(string)
			assert.NotEmpty(t, jti)
			iat := float64(testStart.Unix())
			assert.Equal(t, map[string]any{
				"iss": testIssuer, "aud": testAudience, "sub": tt.client, "client_id": tt.client,
				"scope": tt.wantScope, "iat": iat, "exp": iat + 300, "jti": jti,
			}, claims)

			reason := ""
			if tt.wantReduced {
				reason = "scope_reduced"
			}
			assert.Equal(t, []authserver.AuditEvent{{
				Kind: authserver.AuditClientCredentialsSucceeded, ClientID: tt.client, Reason: reason, Time: testStart,
			}}, e.audit.events)
		})
	}
}

// TestClientCredentialsRefused: every refusal, with its exact status and
// body, and the audit event it leaves.
func TestClientCredentialsRefused(t *testing.T) {
	const (
		descClientAuth   = "client authentication failed"
		descUnauthorized = "the client is not registered for the client_credentials grant"
		descRequired     = "scope is required"
		descNotSystem    = "the client_credentials grant issues system/ scopes only"
		descNotPreAuth   = "no requested scope is within the scope the client is registered for"
	)
	k := ccKeys()
	signed := func(edit func(jwt.MapClaims)) func(e *ccEnv) string {
		return func(e *ccEnv) string {
			return assertion(e.t, k.es384, "ES384", "es384-1", ccBulk, ccTokenURL, e.clock.Now(), edit)
		}
	}
	withAssertion := func(a func(e *ccEnv) string, scope string) func(e *ccEnv) (url.Values, []func(*http.Request)) {
		return func(e *ccEnv) (url.Values, []func(*http.Request)) { return ccForm(a(e), scope), nil }
	}
	es384 := func(client string) func(e *ccEnv) string { return func(e *ccEnv) string { return e.es384(client) } }

	tests := []struct {
		name        string
		request     func(e *ccEnv) (url.Values, []func(*http.Request))
		status      int
		code, desc  string
		auditKind   string
		auditReason string
		auditClient string
	}{
		// Scope mediation: 400 invalid_scope.
		{name: "no scope", request: withAssertion(es384(ccBulk), ""), status: 400, code: "invalid_scope", desc: descRequired},
		{name: "only spaces", request: withAssertion(es384(ccBulk), "   "), status: 400, code: "invalid_scope", desc: descRequired},
		{name: "user scope", request: withAssertion(es384(ccBulk), "user/*.rs"), status: 400, code: "invalid_scope", desc: descNotSystem},
		{name: "patient scope", request: withAssertion(es384(ccBulk), "patient/Patient.rs"), status: 400, code: "invalid_scope", desc: descNotSystem},
		{name: "system and user", request: withAssertion(es384(ccBulk), "system/Patient.rs user/Observation.rs"), status: 400, code: "invalid_scope", desc: descNotSystem},
		{name: "openid", request: withAssertion(es384(ccBulk), "system/Patient.rs openid"), status: 400, code: "invalid_scope", desc: descNotSystem},
		{name: "offline_access", request: withAssertion(es384(ccBulk), "offline_access system/Patient.rs"), status: 400, code: "invalid_scope", desc: descNotSystem},
		{name: "launch", request: withAssertion(es384(ccBulk), "launch system/Patient.rs"), status: 400, code: "invalid_scope", desc: descNotSystem},
		{name: "letters out of order", request: withAssertion(es384(ccBulk), "system/Patient.sr"), status: 400, code: "invalid_scope", desc: descNotSystem},
		{name: "tab separator", request: withAssertion(es384(ccBulk), "system/Patient.rs\tsystem/Observation.rs"), status: 400, code: "invalid_scope", desc: descNotSystem},
		{name: "type not registered", request: withAssertion(es384(ccBulk), "system/Encounter.rs"), status: 400, code: "invalid_scope", desc: descNotPreAuth},
		{name: "wildcard over registered types", request: withAssertion(es384(ccBulk), "system/*.rs"), status: 400, code: "invalid_scope", desc: descNotPreAuth},
		{name: "more permissions than registered", request: withAssertion(es384(ccBulk), "system/Patient.cruds"), status: 400, code: "invalid_scope", desc: descNotPreAuth},
		{name: "v1 write under read", request: withAssertion(es384(ccAll), "system/Patient.write"), status: 400, code: "invalid_scope", desc: descNotPreAuth, auditClient: ccAll},

		// Clients that may not use the grant: 400 unauthorized_client.
		{name: "private_key_jwt client with user scopes only", request: withAssertion(es384(ccUserOnly), "system/Patient.rs"),
			status: 400, code: "unauthorized_client", desc: descUnauthorized, auditClient: ccUserOnly},
		{name: "private_key_jwt client without registered scope", request: withAssertion(es384(ccNoScope), "system/Patient.rs"),
			status: 400, code: "unauthorized_client", desc: descUnauthorized, auditClient: ccNoScope},
		{name: "client_secret_basic", request: func(*ccEnv) (url.Values, []func(*http.Request)) {
			return url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}, []func(*http.Request){basic(ccBasic, ccBasicSec)}
		}, status: 400, code: "unauthorized_client", desc: descUnauthorized, auditClient: ccBasic},
		{name: "client_secret_post", request: func(*ccEnv) (url.Values, []func(*http.Request)) {
			return url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}, "client_id": {ccPost}, "client_secret": {ccPostSecret}}, nil
		}, status: 400, code: "unauthorized_client", desc: descUnauthorized, auditClient: ccPost},
		{name: "public client", request: func(*ccEnv) (url.Values, []func(*http.Request)) {
			return url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}, "client_id": {ccPublic}}, nil
		}, status: 400, code: "unauthorized_client", desc: descUnauthorized, auditClient: ccPublic},

		// Client authentication: 401 invalid_client, before the grant.
		{name: "no credentials", request: func(*ccEnv) (url.Values, []func(*http.Request)) {
			return url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}, nil
		}, status: 401, code: "invalid_client", desc: descClientAuth, auditKind: authserver.AuditClientAuthFailed},
		{name: "assertion for another audience", request: withAssertion(signed(func(c jwt.MapClaims) { c["aud"] = "https://other.example.org/token" }), "system/Patient.rs"),
			status: 401, code: "invalid_client", desc: descClientAuth, auditKind: authserver.AuditClientAuthFailed},
		{name: "expired assertion", request: withAssertion(signed(func(c jwt.MapClaims) { c["exp"] = testStart.Add(-time.Second).Unix() }), "system/Patient.rs"),
			status: 401, code: "invalid_client", desc: descClientAuth, auditKind: authserver.AuditClientAuthFailed},
		{name: "assertion valid for more than five minutes", request: withAssertion(signed(func(c jwt.MapClaims) { c["exp"] = testStart.Add(6 * time.Minute).Unix() }), "system/Patient.rs"),
			status: 401, code: "invalid_client", desc: descClientAuth, auditKind: authserver.AuditClientAuthFailed},
		{name: "assertion without jti", request: withAssertion(signed(func(c jwt.MapClaims) { delete(c, "jti") }), "system/Patient.rs"),
			status: 401, code: "invalid_client", desc: descClientAuth, auditKind: authserver.AuditClientAuthFailed},
		{name: "iss is not sub", request: withAssertion(signed(func(c jwt.MapClaims) { c["sub"] = ccAll }), "system/Patient.rs"),
			status: 401, code: "invalid_client", desc: descClientAuth, auditKind: authserver.AuditClientAuthFailed},
		{name: "unregistered key", request: withAssertion(func(e *ccEnv) string {
			return assertion(e.t, k.other, "ES384", "es384-1", ccBulk, ccTokenURL, e.clock.Now(), nil)
		}, "system/Patient.rs"), status: 401, code: "invalid_client", desc: descClientAuth, auditKind: authserver.AuditClientAuthFailed},
		{name: "unknown kid", request: withAssertion(func(e *ccEnv) string {
			return assertion(e.t, k.es384, "ES384", "es384-2", ccBulk, ccTokenURL, e.clock.Now(), nil)
		}, "system/Patient.rs"), status: 401, code: "invalid_client", desc: descClientAuth, auditKind: authserver.AuditClientAuthFailed},
		{name: "HS256 assertion", request: withAssertion(func(e *ccEnv) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
				"iss": ccBulk, "sub": ccBulk, "aud": ccTokenURL, "exp": e.clock.Now().Add(time.Minute).Unix(), "jti": "hs",
			})
			tok.Header["kid"] = "es384-1"
			s, err := tok.SignedString([]byte("0123456789abcdef0123456789abcdef"))
			require.NoError(e.t, err)
			return s
		}, "system/Patient.rs"), status: 401, code: "invalid_client", desc: descClientAuth, auditKind: authserver.AuditClientAuthFailed},
		{name: "replayed assertion", request: func(e *ccEnv) (url.Values, []func(*http.Request)) {
			a := e.es384(ccBulk)
			require.Equal(e.t, http.StatusOK, e.post(ccForm(a, "system/Patient.rs")).Code)
			e.audit.events = nil
			return ccForm(a, "system/Patient.rs"), nil
		}, status: 401, code: "invalid_client", desc: descClientAuth, auditKind: authserver.AuditClientAuthFailed},
		{name: "client_id of another client", request: func(e *ccEnv) (url.Values, []func(*http.Request)) {
			f := ccForm(e.es384(ccBulk), "system/Patient.rs")
			f.Set("client_id", ccAll)
			return f, nil
		}, status: 401, code: "invalid_client", desc: descClientAuth, auditKind: authserver.AuditClientAuthFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCCEnv(t, nil)
			form, opts := tt.request(e)
			rec := e.post(form, opts...)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.JSONEq(t, oauthErrorBody(tt.code, tt.desc), rec.Body.String())

			want := authserver.AuditEvent{Kind: tt.auditKind, ClientID: tt.auditClient, Reason: tt.code, Time: testStart}
			if want.Kind == "" {
				want.Kind = authserver.AuditClientCredentialsFailed
				if want.ClientID == "" {
					want.ClientID = ccBulk
				}
			}
			assert.Equal(t, []authserver.AuditEvent{want}, e.audit.events)
		})
	}
}

// TestClientCredentialsNotEnabled: without TokenConfig.ClientCredentials
// the grant type is unsupported, even for a backend client.
func TestClientCredentialsNotEnabled(t *testing.T) {
	e := newCCEnv(t, func(c *authserver.TokenConfig) { c.ClientCredentials = nil })
	rec := e.post(ccForm(e.es384(ccAll), "system/*.rs"))
	require.Equal(t, http.StatusBadRequest, rec.Code)
	assert.JSONEq(t, oauthErrorBody("unsupported_grant_type", "the grant type is not supported"), rec.Body.String())
	assert.Equal(t, []string{"refresh_token"}, e.h.GrantTypes())
}

// TestClientCredentialsLifetime: expires_in and exp follow the configured
// lifetime, by default five minutes or the access-token lifetime if
// shorter, and never more than the access-token lifetime.
func TestClientCredentialsLifetime(t *testing.T) {
	tests := []struct {
		name       string
		access, cc time.Duration
		want       int64
		wantErr    string
	}{
		{name: "defaults", want: 300},
		{name: "shorter", cc: 2 * time.Minute, want: 120},
		{name: "longer than the default, within the access lifetime", cc: 10 * time.Minute, want: 600},
		{name: "access lifetime shorter than the default", access: time.Minute, want: 60},
		{name: "equal to the access lifetime", access: 20 * time.Minute, cc: 20 * time.Minute, want: 1200},
		{name: "above the access lifetime", access: 10 * time.Minute, cc: 11 * time.Minute,
			wantErr: "authserver: ClientCredentialsConfig.AccessTokenLifetime must not exceed TokenConfig.AccessTokenLifetime"},
		{name: "above the default access lifetime", cc: 2 * time.Hour,
			wantErr: "authserver: ClientCredentialsConfig.AccessTokenLifetime must not exceed TokenConfig.AccessTokenLifetime"},
		{name: "negative", cc: -time.Second,
			wantErr: "authserver: ClientCredentialsConfig.AccessTokenLifetime must not be negative"},
		{name: "under a second", cc: time.Millisecond,
			wantErr: "authserver: ClientCredentialsConfig.AccessTokenLifetime must be at least one second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mod := func(c *authserver.TokenConfig) {
				c.AccessTokenLifetime = tt.access
				c.ClientCredentials = &authserver.ClientCredentialsConfig{AccessTokenLifetime: tt.cc}
			}
			if tt.wantErr != "" {
				cfg := authserver.TokenConfig{
					Issuer: testIssuer, Audience: testAudience, Store: tokenstore.NewMemoryStore(tokenstore.MemoryOptions{}),
					Clients: testClients(t, tokenstore.NewMemoryStore(tokenstore.MemoryOptions{}), nil), Keys: mustKeySet(t),
				}
				mod(&cfg)
				_, err := authserver.NewTokenHandler(cfg)
				require.EqualError(t, err, tt.wantErr)
				return
			}
			e := newCCEnv(t, mod)
			rec := e.post(ccForm(e.es384(ccAll), "system/*.rs"))
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			resp := decodeTokenResponse(t, rec)
			assert.Equal(t, tt.want, resp.ExpiresIn)
			claims := jwtPart(t, resp.AccessToken, 1)
			assert.Equal(t, float64(testStart.Unix()+tt.want), claims["exp"])
		})
	}
}

// TestClientCredentialsGrantTypes: the handler reports the grants it
// serves, and a GrantHandler for client_credentials besides the built-in
// one is refused.
func TestClientCredentialsGrantTypes(t *testing.T) {
	e := newCCEnv(t, nil)
	assert.Equal(t, []string{"refresh_token", "client_credentials"}, e.h.GrantTypes())

	cfg := authserver.TokenConfig{
		Issuer: testIssuer, Audience: testAudience, Store: tokenstore.NewMemoryStore(tokenstore.MemoryOptions{}),
		Clients: testClients(t, tokenstore.NewMemoryStore(tokenstore.MemoryOptions{}), nil), Keys: mustKeySet(t),
		ClientCredentials: &authserver.ClientCredentialsConfig{},
		Grants:            []authserver.GrantHandler{namedGrant("client_credentials")},
	}
	_, err := authserver.NewTokenHandler(cfg)
	require.EqualError(t, err, `authserver: grant type "client_credentials" registered twice`)
}

// namedGrant is a GrantHandler that only has a name.
type namedGrant string

func (g namedGrant) GrantType() string { return string(g) }

func (namedGrant) HandleGrant(context.Context, *authserver.TokenRequest) (*authserver.TokenResponse, error) {
	return nil, &authserver.Error{Code: authserver.CodeInvalidGrant}
}

func mustKeySet(t testing.TB) *authserver.KeySet {
	t.Helper()
	ks, err := authserver.NewKeySet(testKey(t, "ES256"))
	require.NoError(t, err)
	return ks
}

// TestClientCredentialsSigningFailure: a token that cannot be signed is a
// 500 server_error, audited.
func TestClientCredentialsSigningFailure(t *testing.T) {
	e := newCCEnv(t, nil)
	restore := authserver.FailNextSign(e.keys)
	defer restore()
	rec := e.post(ccForm(e.es384(ccAll), "system/*.rs"))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, bodyServerError, rec.Body.String())
	assert.Equal(t, []authserver.AuditEvent{{
		Kind: authserver.AuditClientCredentialsFailed, ClientID: ccAll, Reason: "server_error", Time: testStart,
	}}, e.audit.events)
}

// TestClientRegistrationScope: a registered scope must be made of scope
// tokens.
func TestClientRegistrationScope(t *testing.T) {
	for _, s := range []string{"system/*.rs\tsystem/Patient.rs", "system/\"x\".rs", "system/*.rs\n", "système/*.rs"} {
		_, err := authserver.NewStaticClients(authserver.Client{ID: "c", AuthMethod: authserver.AuthNone, Scope: s})
		require.ErrorIs(t, err, authserver.ErrInvalidRegistration, "%q", s)
	}
	_, err := authserver.NewStaticClients(authserver.Client{ID: "c", AuthMethod: authserver.AuthNone, Scope: " system/*.rs  user/Observation.rs?category=x|y "})
	require.NoError(t, err)
}
