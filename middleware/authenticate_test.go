package middleware

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/scope"
)

// testLaunchContext is what the stub verifier grants for the token "good".
var testLaunchContext = &LaunchContext{
	Issuer:   "https://auth.example.org",
	Subject:  "user-1",
	ClientID: "app",
	Patient:  "123",
	Scopes:   scope.Parse("patient/*.rs"),
}

// hostile is error text a verifier might build from token data; it must
// never reach a response.
const hostile = "kid \"x\\\"\r\nSet-Cookie: a=b é"

// stubErrors maps stub tokens to the errors the stub verifier returns.
var stubErrors = map[string]error{}

func init() {
	for _, m := range errorMappings {
		stubErrors["t-"+m.reason] = fmt.Errorf("%w: %s", m.sentinel, hostile)
	}
	stubErrors["t-other"] = fmt.Errorf("some verifier error: %s", hostile)
}

// stubVerifier accepts "good" (testLaunchContext), "g-<id>" (a
// LaunchContext with GrantID <id>), "nil" (returns nil, nil) and answers the
// tokens of stubErrors with their errors; any other token is a bad
// signature.
var stubVerifier = VerifierFunc(func(_ context.Context, token string) (*LaunchContext, error) {
	switch {
	case token == "good":
		return testLaunchContext, nil
	case token == "nil":
		return nil, nil
	case strings.HasPrefix(token, "g-"):
		return &LaunchContext{Subject: "user-1", GrantID: token[2:]}, nil
	}
	if err, ok := stubErrors[token]; ok {
		return nil, err
	}
	return nil, ErrBadSignature
})

// echoHandler answers 200 with the subject and patient in context, or
// "anonymous".
var echoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	lc, ok := LaunchContextFrom(r.Context())
	if !ok {
		_, _ = io.WriteString(w, "anonymous")
		return
	}
	_, _ = fmt.Fprintf(w, "sub=%s patient=%s", lc.Subject, lc.Patient)
})

type request struct {
	method  string
	target  string
	headers [][2]string
	body    string
}

func (rq request) build() *http.Request {
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	target := rq.target
	if target == "" {
		target = "/fhir/Patient/123"
	}
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(method, target, body)
	for _, h := range rq.headers {
		r.Header.Add(h[0], h[1])
	}
	return r
}

func bearer(tok string) [][2]string { return [][2]string{{"Authorization", "Bearer " + tok}} }

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	const (
		missing  = `Bearer realm="smartauth"`
		badReq   = `Bearer realm="smartauth", error="invalid_request", error_description="The request does not carry a bearer token in a valid form"`
		badSig   = `Bearer realm="smartauth", error="invalid_token", error_description="The access token signature is invalid"`
		tooLarge = `Bearer realm="smartauth", error="invalid_token", error_description="The access token is too large"`
		ok       = "sub=user-1 patient=123"
	)
	var (
		missingBody  = outcome("login", "The request carries no bearer token")
		badReqBody   = outcome("invalid", "The request does not carry a bearer token in a valid form")
		badSigBody   = outcome("login", "The access token signature is invalid")
		tooLargeBody = outcome("login", "The access token is too large")
		max          = strings.Repeat("a", DefaultMaxTokenSize)
		form         = [2]string{"Content-Type", "application/x-www-form-urlencoded"}
	)
	tests := []struct {
		name   string
		opts   []AuthenticateOption
		req    request
		status int
		header string
		body   string
	}{
		{"good", nil, request{headers: bearer("good")}, 200, "", ok},
		{"missing", nil, request{}, 401, missing, missingBody},
		{"basic scheme", nil, request{headers: [][2]string{{"Authorization", "Basic dXNlcjpwYXNz"}}}, 401, missing, missingBody},
		{"lowercase scheme", nil, request{headers: [][2]string{{"Authorization", "bearer good"}}}, 200, "", ok},
		{"two spaces", nil, request{headers: [][2]string{{"Authorization", "Bearer  good"}}}, 200, "", ok},
		{"bearer alone", nil, request{headers: [][2]string{{"Authorization", "Bearer"}}}, 400, badReq, badReqBody},
		{"invalid chars", nil, request{headers: bearer("go\"od")}, 400, badReq, badReqBody},
		{"two tokens", nil, request{headers: bearer("good good")}, 400, badReq, badReqBody},
		{"two headers", nil, request{headers: append(bearer("good"), bearer("good")...)}, 400, badReq, badReqBody},
		{"bad token", nil, request{headers: bearer("forged")}, 401, badSig, badSigBody},
		{"max size", nil, request{headers: bearer(max)}, 401, badSig, badSigBody},
		{"too large", nil, request{headers: bearer(max + "a")}, 401, tooLarge, tooLargeBody},
		{"smaller cap", []AuthenticateOption{WithMaxTokenSize(3)}, request{headers: bearer("good")}, 401, tooLarge, tooLargeBody},
		{"cap exact", []AuthenticateOption{WithMaxTokenSize(4)}, request{headers: bearer("good")}, 200, "", ok},
		{"query ignored", nil, request{target: "/fhir/Patient/123?access_token=good"}, 401, missing, missingBody},
		{"query", []AuthenticateOption{WithQueryToken()}, request{target: "/fhir/Patient/123?access_token=good"}, 200, "", ok},
		{"query and header", []AuthenticateOption{WithQueryToken()},
			request{target: "/fhir/Patient/123?access_token=good", headers: bearer("good")}, 400, badReq, badReqBody},
		{"form ignored", nil,
			request{method: "POST", headers: [][2]string{form}, body: "access_token=good"}, 401, missing, missingBody},
		{"form", []AuthenticateOption{WithFormToken()},
			request{method: "POST", headers: [][2]string{form}, body: "access_token=good"}, 200, "", ok},
		{"form on GET", []AuthenticateOption{WithFormToken()},
			request{method: "GET", headers: [][2]string{form}, body: "access_token=good"}, 401, missing, missingBody},
		{"form and header", []AuthenticateOption{WithFormToken()},
			request{method: "POST", headers: append(bearer("good"), form), body: "access_token=good"}, 400, badReq, badReqBody},
		{"HEAD authenticated", nil, request{method: "HEAD"}, 401, missing, missingBody},
		{"OPTIONS authenticated", nil, request{method: "OPTIONS"}, 401, missing, missingBody},
		{"preflight authenticated", nil,
			request{method: "OPTIONS", headers: [][2]string{{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}}},
			401, missing, missingBody},
		{"preflight passthrough", []AuthenticateOption{WithPreflightPassthrough()},
			request{method: "OPTIONS", headers: [][2]string{{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}}},
			200, "", "anonymous"},
		{"plain OPTIONS with passthrough", []AuthenticateOption{WithPreflightPassthrough()}, request{method: "OPTIONS"}, 401, missing, missingBody},
		{"optional without token", []AuthenticateOption{WithOptionalCredentials()}, request{}, 200, "", "anonymous"},
		{"optional with basic", []AuthenticateOption{WithOptionalCredentials()},
			request{headers: [][2]string{{"Authorization", "Basic dXNlcjpwYXNz"}}}, 200, "", "anonymous"},
		{"optional with good token", []AuthenticateOption{WithOptionalCredentials()}, request{headers: bearer("good")}, 200, "", ok},
		{"optional with bad token", []AuthenticateOption{WithOptionalCredentials()}, request{headers: bearer("forged")}, 401, badSig, badSigBody},
		{"optional with malformed", []AuthenticateOption{WithOptionalCredentials()}, request{headers: bearer("a b")}, 400, badReq, badReqBody},
		{"verifier returns nothing", nil, request{headers: bearer("nil")}, 503, "",
			outcome("transient", "The access token cannot be verified at the moment")},
		{"realm", []AuthenticateOption{WithRealm("https://fhir.example.org")}, request{}, 401,
			`Bearer realm="https://fhir.example.org"`, missingBody},
		{"hostile realm", []AuthenticateOption{WithRealm("x\"\r\ny")}, request{}, 401, `Bearer realm="x\"y"`, missingBody},
		{"realm then handler", []AuthenticateOption{WithRealm("r"), WithErrorHandler(nil)}, request{}, 401, missing, missingBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Authenticate(stubVerifier, tt.opts...)(echoHandler)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req.build())
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.header, rec.Header().Get("WWW-Authenticate"))
			assert.Equal(t, tt.body, rec.Body.String())
			if tt.status != 200 {
				assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
				assert.Equal(t, "application/fhir+json", rec.Header().Get("Content-Type"))
			}
		})
	}
}

// TestAuthenticateVerifierErrors checks the exact response for every
// sentinel a verifier may return, and that nothing of the error text (which
// may come from the token) leaks into it.
func TestAuthenticateVerifierErrors(t *testing.T) {
	t.Parallel()
	h := Authenticate(stubVerifier)(echoHandler)
	for tok, err := range stubErrors {
		t.Run(tok, func(t *testing.T) {
			ae := NewAuthError(err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request{headers: bearer(tok)}.build())

			want := describe(ae.Reason, ae.Status)
			assert.Equal(t, ae.Status, rec.Code)
			wantHeader := `Bearer realm="smartauth", error="` + ae.Code + `", error_description="` + want + `"`
			if ae.Code == "" {
				wantHeader = `Bearer realm="smartauth"`
			}
			switch ae.Status {
			case 401:
				assert.Equal(t, wantHeader, rec.Header().Get("WWW-Authenticate"))
				assert.Equal(t, outcome("login", want), rec.Body.String())
			case 400:
				assert.Equal(t, wantHeader, rec.Header().Get("WWW-Authenticate"))
				assert.Equal(t, outcome("invalid", want), rec.Body.String())
			case 403:
				assert.Equal(t, wantHeader, rec.Header().Get("WWW-Authenticate"))
				assert.Equal(t, outcome("forbidden", want), rec.Body.String())
			case 503:
				assert.Empty(t, rec.Header().Values("WWW-Authenticate"))
				assert.Equal(t, outcome("transient", want), rec.Body.String())
			default:
				t.Fatalf("unexpected status %d", ae.Status)
			}
			for name, vals := range rec.Header() {
				for _, v := range vals {
					assert.NotContains(t, v, "kid", name)
					assert.NotContains(t, v, "\r", name)
					assert.NotContains(t, v, "\n", name)
				}
			}
			assert.NotContains(t, rec.Body.String(), "kid")
			assert.NotContains(t, rec.Body.String(), tok)
		})
	}
	assert.Len(t, stubErrors, len(errorMappings)+1)
}

// TestAuthenticateVerifierErrorsExact spells out the response to every
// sentinel error.
func TestAuthenticateVerifierErrorsExact(t *testing.T) {
	t.Parallel()
	h := Authenticate(stubVerifier)(echoHandler)
	tests := []struct {
		token  string
		status int
		code   string // RFC 6750 error code
		desc   string
	}{
		{"t-expired", 401, "invalid_token", "The access token expired"},
		{"t-bad_issuer", 401, "invalid_token", "The access token was issued by an untrusted issuer"},
		{"t-bad_audience", 401, "invalid_token", "The access token is not intended for this server"},
		{"t-bad_signature", 401, "invalid_token", "The access token signature is invalid"},
		{"t-unknown_key", 401, "invalid_token", "The access token is signed with an unknown key"},
		{"t-bad_algorithm", 401, "invalid_token", "The access token is signed with an algorithm that is not allowed"},
		{"t-malformed_token", 401, "invalid_token", "The access token is malformed"},
		{"t-not_yet_valid", 401, "invalid_token", "The access token is not yet valid"},
		{"t-bad_type", 401, "invalid_token", "The access token has the wrong type"},
		{"t-unsupported_crit", 401, "invalid_token", "The access token has an unsupported critical header"},
		{"t-bad_launch_context", 401, "invalid_token", "The access token has a malformed launch context"},
		{"t-inactive", 401, "invalid_token", "The access token is not active"},
		{"t-revoked", 401, "invalid_token", "The access token has been revoked"},
		{"t-token_too_large", 401, "invalid_token", "The access token is too large"},
		{"t-other", 401, "invalid_token", "The access token is invalid"},
		{"t-malformed_request", 400, "invalid_request", "The request does not carry a bearer token in a valid form"},
		{"t-missing_token", 401, "", "The request carries no bearer token"},
		{"t-insufficient_scope", 403, "insufficient_scope", "The access token does not grant the scope this request requires"},
		{"t-verifier_unavailable", 503, "", "The access token cannot be verified at the moment"},
	}
	issue := map[int]string{400: "invalid", 401: "login", 403: "forbidden", 503: "transient"}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request{headers: bearer(tt.token)}.build())
			assert.Equal(t, tt.status, rec.Code)
			switch {
			case tt.status == 503:
				assert.Empty(t, rec.Header().Values("WWW-Authenticate"))
			case tt.code == "":
				assert.Equal(t, `Bearer realm="smartauth"`, rec.Header().Get("WWW-Authenticate"))
			default:
				assert.Equal(t, `Bearer realm="smartauth", error="`+tt.code+`", error_description="`+tt.desc+`"`,
					rec.Header().Get("WWW-Authenticate"))
			}
			assert.Equal(t, outcome(issue[tt.status], tt.desc), rec.Body.String())
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Equal(t, "application/fhir+json", rec.Header().Get("Content-Type"))
		})
	}
	assert.Len(t, tests, len(stubErrors))
}

// TestAuthenticateOverHTTP checks the challenge as a client receives it.
func TestAuthenticateOverHTTP(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Authenticate(stubVerifier, WithRealm("fhir \"r4\"\r\n\x00é"))(echoHandler))
	t.Cleanup(srv.Close)
	for _, tok := range []string{"", "t-expired", "t-other"} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/fhir/Patient/123", nil)
		require.NoError(t, err)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, 401, resp.StatusCode)
		vals := resp.Header.Values("WWW-Authenticate")
		require.Len(t, vals, 1)
		assert.Regexp(t, challengeRE, vals[0])
		assert.True(t, strings.HasPrefix(vals[0], `Bearer realm="fhir \"r4\""`), vals[0])
		assert.Empty(t, resp.Header.Values("Set-Cookie"))
	}
}

func TestAuthenticatePassesContextAndToken(t *testing.T) {
	t.Parallel()
	type key struct{}
	var gotToken string
	var gotValue any
	v := VerifierFunc(func(ctx context.Context, token string) (*LaunchContext, error) {
		gotToken, gotValue = token, ctx.Value(key{})
		return testLaunchContext, nil
	})
	h := Authenticate(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc, ok := LaunchContextFrom(r.Context())
		require.True(t, ok)
		assert.Same(t, testLaunchContext, lc)
		assert.Equal(t, "outer", r.Context().Value(key{}), "the request context is kept")
	}))
	r := request{headers: bearer("abc.def")}.build()
	r = r.WithContext(context.WithValue(r.Context(), key{}, "outer"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "abc.def", gotToken)
	assert.Equal(t, "outer", gotValue)
}

func TestAuthenticateFormBodyReplayed(t *testing.T) {
	t.Parallel()
	for _, tok := range []string{"good", ""} {
		h := Authenticate(stubVerifier, WithFormToken(), WithOptionalCredentials())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			require.NoError(t, r.ParseForm())
			_, _ = fmt.Fprintf(w, "name=%s", r.PostForm.Get("name"))
		}))
		body := "name=Chalmers"
		if tok != "" {
			body += "&access_token=" + tok
		}
		r := request{method: "POST", headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, body: body}.build()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, 200, rec.Code)
		assert.Equal(t, "name=Chalmers", rec.Body.String())
	}
}

// chain applies middlewares so that the first one is the outermost.
func chain(h http.Handler, mws ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

func TestAuthenticateWithServeMux(t *testing.T) {
	t.Parallel()
	var order []string
	trace := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	patient := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc, ok := LaunchContextFrom(r.Context())
		if !ok || !lc.IsPatientInContext(r.PathValue("id")) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "Patient/"+r.PathValue("id"))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /fhir/Patient/{id}", Authenticate(stubVerifier)(patient))
	mux.Handle("GET /fhir/metadata", Authenticate(stubVerifier, WithOptionalCredentials())(echoHandler))
	h := chain(mux, trace("outer"), trace("inner"))

	tests := []struct {
		req    request
		status int
		body   string
	}{
		{request{target: "/fhir/Patient/123", headers: bearer("good")}, 200, "Patient/123"},
		{request{target: "/fhir/Patient/456", headers: bearer("good")}, 403, "forbidden\n"},
		{request{target: "/fhir/Patient/123"}, 401, outcome("login", "The request carries no bearer token")},
		{request{target: "/fhir/metadata"}, 200, "anonymous"},
		{request{method: "DELETE", target: "/fhir/Patient/123", headers: bearer("good")}, 405, "Method Not Allowed\n"},
	}
	for _, tt := range tests {
		order = nil
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, tt.req.build())
		assert.Equal(t, tt.status, rec.Code, tt.req.target)
		assert.Equal(t, tt.body, rec.Body.String(), tt.req.target)
		assert.Equal(t, []string{"outer", "inner"}, order)
	}
}

func TestAuthenticateChainedWithAuthenticate(t *testing.T) {
	t.Parallel()
	// A custom error handler sees the AuthError.
	var got *AuthError
	eh := func(w http.ResponseWriter, r *http.Request, err *AuthError) {
		got = err
		w.WriteHeader(err.Status)
	}
	h := chain(echoHandler, Authenticate(stubVerifier, WithErrorHandler(eh)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request{headers: bearer("t-expired")}.build())
	assert.Equal(t, 401, rec.Code)
	require.NotNil(t, got)
	assert.Equal(t, "expired", got.Reason)
	assert.Equal(t, CodeInvalidToken, got.Code)
	assert.ErrorIs(t, got, ErrTokenExpired)
	assert.Empty(t, rec.Header().Values("WWW-Authenticate"))
}

func TestAuthenticateLogsReasonOnly(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := Authenticate(stubVerifier, WithLogger(logger))(echoHandler)
	for _, tok := range []string{"t-expired", "secret-token-value", "good"} {
		h.ServeHTTP(httptest.NewRecorder(), request{headers: bearer(tok)}.build())
	}
	out := buf.String()
	assert.Contains(t, out, "level=DEBUG")
	assert.Contains(t, out, "reason=expired")
	assert.Contains(t, out, "reason=bad_signature")
	assert.Equal(t, 2, strings.Count(out, "\n"), "successes are not logged")
	assert.NotContains(t, out, "secret-token-value")
	assert.NotContains(t, out, "kid")
	assert.NotContains(t, out, "t-expired")

	// Info level: nothing.
	buf.Reset()
	quiet := slog.New(slog.NewTextHandler(&buf, nil))
	Authenticate(stubVerifier, WithLogger(quiet))(echoHandler).ServeHTTP(httptest.NewRecorder(), request{}.build())
	assert.Empty(t, buf.String())
}

func TestAuthenticatePanicsOnNil(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { Authenticate(nil) })
	assert.Panics(t, func() { Authenticate(stubVerifier)(nil) })
}

func FuzzAuthenticate(f *testing.F) {
	f.Add("GET", "/fhir/Patient/1?access_token=good", "Bearer good", "application/x-www-form-urlencoded", "access_token=good")
	f.Add("POST", "/", "bearer  x==", "application/x-www-form-urlencoded; charset=\"", "access_token=%zz&access_token=")
	h := Authenticate(stubVerifier, WithQueryToken(), WithFormToken(), WithOptionalCredentials(), WithPreflightPassthrough())(echoHandler)
	f.Fuzz(func(t *testing.T, method, target, authz, contentType, body string) {
		r, err := http.NewRequest(method, "http://example.org"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header["Authorization"] = []string{authz}
		r.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		switch rec.Code {
		case 200, 400, 401, 403, 503: // 403 and 503 from stub tokens
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if v := rec.Header().Get("WWW-Authenticate"); rec.Code != 200 && rec.Code != 503 && !challengeRE.MatchString(v) {
			t.Fatalf("malformed challenge %q", v)
		}
	})
}

// nopWriter is a ResponseWriter that discards everything.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func BenchmarkAuthenticateCached(b *testing.B) {
	lc := &LaunchContext{Subject: "user-1", Patient: "123", Scopes: scope.Parse("patient/*.rs")}
	v := VerifierFunc(func(context.Context, string) (*LaunchContext, error) { return lc, nil })
	benchmarkAuthenticate(b, Authenticate(v), "eyJhbGciOiJSUzI1NiJ9."+strings.Repeat("x", 600)+".sig")
}

// BenchmarkAuthenticateJWTCached measures Authenticate with the real JWT
// verifier answering from its cache (the token was verified once before
// the loop).
func BenchmarkAuthenticateJWTCached(b *testing.B) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Now()
	v, err := NewJWTVerifier(context.Background(), JWTConfig{
		HMACSecrets: map[string][]byte{"": key},
		Algorithms:  []string{"HS256"},
		Issuers:     []string{"https://auth.example.org"},
		Audience:    "https://fhir.example.org/r4",
		Now:         func() time.Time { return now },
	})
	require.NoError(b, err)
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "https://auth.example.org", "aud": "https://fhir.example.org/r4", "sub": "user-1",
		"client_id": "app", "scope": "launch/patient patient/*.rs openid fhirUser", "patient": "123",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "abc",
	}).SignedString(key)
	require.NoError(b, err)
	_, err = v.VerifyToken(context.Background(), token)
	require.NoError(b, err)
	benchmarkAuthenticate(b, Authenticate(v), token)
}

func benchmarkAuthenticate(b *testing.B, mw func(http.Handler) http.Handler, token string) {
	b.Helper()
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := LaunchContextFrom(r.Context()); !ok {
			b.Fatal("no launch context")
		}
	}))
	r := httptest.NewRequest(http.MethodGet, "/fhir/Patient/123", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// TestAuthenticateJWTTokenCharacters: with the JWT verifier, a token
// verified before is answered from its cache without the b64token check;
// every other token is still checked (400 for a malformed one) before it
// is verified, with the cache on or off.
func TestAuthenticateJWTTokenCharacters(t *testing.T) {
	t.Parallel()
	k := jwtTestKeys()
	token := handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, nil), k.rsa)
	for _, cacheSize := range []int{0, -1} {
		cfg := staticTestConfig()
		cfg.CacheSize = cacheSize
		h := Authenticate(newTestVerifier(t, cfg), WithQueryToken())(echoHandler)
		tests := []struct {
			name   string
			req    request
			status int
		}{
			{"fresh", request{headers: bearer(token)}, 200},
			{"repeated", request{headers: bearer(token)}, 200},
			{"repeated, in the query", request{target: "/?access_token=" + token}, 200},
			{"with a space and more", request{headers: bearer(token + " x")}, 400},
			{"with a quote", request{headers: bearer(token + `"`)}, 400},
			{"with a trailing space", request{headers: bearer(token + " ")}, 400},
			{"with a newline, in the query", request{target: "/?access_token=" + token + "%0A"}, 400},
			{"with padding", request{headers: bearer(token + "=")}, 401},
			{"with a byte more", request{headers: bearer(token + "A")}, 401},
		}
		for _, tt := range tests {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req.build())
			assert.Equal(t, tt.status, rec.Code, "cache %d: %s", cacheSize, tt.name)
			if tt.status == 200 {
				assert.Equal(t, "sub=user-1 patient=pat-123", rec.Body.String())
			}
		}
	}
}

// TestAuthenticateRepeatedTokenAllocs: a repeated token costs two
// allocations through Authenticate, those of r.WithContext and
// context.WithValue.
func TestAuthenticateRepeatedTokenAllocs(t *testing.T) {
	k := jwtTestKeys()
	v := newTestVerifier(t, staticTestConfig())
	h := Authenticate(v)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/fhir/Patient/123", nil)
	r.Header.Set("Authorization", "Bearer "+handSign(t, "RS256", headerJSON("RS256", "rsa"), claimsJSON(t, nil), k.rsa))
	w := &nopWriter{h: http.Header{}}
	h.ServeHTTP(w, r)
	allocs := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) })
	assert.LessOrEqual(t, allocs, 2.0)
}
