package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// challengeRE is the grammar of the challenges NewErrorHandler writes:
// RFC 9110 quoted-string realm, RFC 6750 §3 error, error_description and
// scope attributes.
var challengeRE = regexp.MustCompile(`^Bearer realm="(?:[\t\x20\x21\x23-\x5b\x5d-\x7e]|\\[\t\x20-\x7e])*"` +
	`(?:, error="(?:invalid_request|invalid_token|insufficient_scope)", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]*"` +
	`(?:, scope="[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*")?)?$`)

// outcome is the exact OperationOutcome body for an issue code and
// diagnostics.
func outcome(code, diagnostics string) string {
	return `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"` + code + `","diagnostics":"` + diagnostics + `"}]}`
}

func TestNewAuthError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		status int
		code   string
		reason string
	}{
		{ErrMissingToken, 401, "", "missing_token"},
		{ErrMalformedRequest, 400, "invalid_request", "malformed_request"},
		{ErrTokenTooLarge, 401, "invalid_token", "token_too_large"},
		{ErrMalformedToken, 401, "invalid_token", "malformed_token"},
		{ErrAlgorithmNotAllowed, 401, "invalid_token", "bad_algorithm"},
		{ErrUnknownKey, 401, "invalid_token", "unknown_key"},
		{ErrBadSignature, 401, "invalid_token", "bad_signature"},
		{ErrBadType, 401, "invalid_token", "bad_type"},
		{ErrUnsupportedCritical, 401, "invalid_token", "unsupported_crit"},
		{ErrTokenExpired, 401, "invalid_token", "expired"},
		{ErrTokenNotYetValid, 401, "invalid_token", "not_yet_valid"},
		{ErrBadIssuer, 401, "invalid_token", "bad_issuer"},
		{ErrBadAudience, 401, "invalid_token", "bad_audience"},
		{ErrBadLaunchContext, 401, "invalid_token", "bad_launch_context"},
		{ErrInactiveToken, 401, "invalid_token", "inactive"},
		{ErrTokenRevoked, 401, "invalid_token", "revoked"},
		{ErrInsufficientScope, 403, "insufficient_scope", "insufficient_scope"},
		{ErrVerifierUnavailable, 503, "", "verifier_unavailable"},
		{errors.New("something else"), 401, "invalid_token", "invalid_token"},
		{nil, 401, "invalid_token", "invalid_token"},
		// Unavailability wins over anything else the error wraps.
		{errors.Join(ErrBadSignature, ErrVerifierUnavailable), 503, "", "verifier_unavailable"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			wrapped := tt.err
			if tt.err != nil {
				wrapped = fmt.Errorf("context: %w", tt.err)
			}
			ae := NewAuthError(wrapped)
			assert.Equal(t, tt.status, ae.Status)
			assert.Equal(t, tt.code, ae.Code)
			assert.Equal(t, tt.reason, ae.Reason)
			assert.Empty(t, ae.Scope)
			assert.Equal(t, wrapped, ae.Err)
			if tt.err != nil {
				assert.ErrorIs(t, ae, tt.err)
			}
		})
	}
}

func TestNewAuthErrorKeepsAuthError(t *testing.T) {
	t.Parallel()
	ae := &AuthError{Status: 403, Code: CodeInsufficientScope, Reason: "insufficient_scope", Scope: "patient/Patient.r"}
	assert.Same(t, ae, NewAuthError(ae))
	assert.Same(t, ae, NewAuthError(fmt.Errorf("wrapped: %w", ae)))
}

func TestDefaultErrorHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    *AuthError
		status int
		header string
		body   string
	}{
		{
			name:   "missing token",
			err:    NewAuthError(ErrMissingToken),
			status: 401,
			header: `Bearer realm="smartauth"`,
			body:   outcome("login", "The request carries no bearer token"),
		},
		{
			name:   "invalid token",
			err:    NewAuthError(ErrTokenExpired),
			status: 401,
			header: `Bearer realm="smartauth", error="invalid_token", error_description="The access token expired"`,
			body:   outcome("login", "The access token expired"),
		},
		{
			name:   "invalid request",
			err:    NewAuthError(ErrMalformedRequest),
			status: 400,
			header: `Bearer realm="smartauth", error="invalid_request", error_description="The request does not carry a bearer token in a valid form"`,
			body:   outcome("invalid", "The request does not carry a bearer token in a valid form"),
		},
		{
			name:   "insufficient scope",
			err:    &AuthError{Status: 403, Code: CodeInsufficientScope, Reason: "insufficient_scope", Scope: "patient/Observation.rs", Err: ErrInsufficientScope},
			status: 403,
			header: `Bearer realm="smartauth", error="insufficient_scope", error_description="The access token does not grant the scope this request requires", scope="patient/Observation.rs"`,
			body:   outcome("forbidden", "The access token does not grant the scope this request requires"),
		},
		{
			name:   "insufficient scope without hint",
			err:    NewAuthError(ErrInsufficientScope),
			status: 403,
			header: `Bearer realm="smartauth", error="insufficient_scope", error_description="The access token does not grant the scope this request requires"`,
			body:   outcome("forbidden", "The access token does not grant the scope this request requires"),
		},
		{
			name:   "scope hint sanitized",
			err:    &AuthError{Status: 403, Code: CodeInsufficientScope, Reason: "insufficient_scope", Scope: "  patient/Observation.rs \"x\r\n\\y é\x00z "},
			status: 403,
			header: `Bearer realm="smartauth", error="insufficient_scope", error_description="The access token does not grant the scope this request requires", scope="patient/Observation.rs x y z"`,
			body:   outcome("forbidden", "The access token does not grant the scope this request requires"),
		},
		{
			name:   "unavailable",
			err:    NewAuthError(ErrVerifierUnavailable),
			status: 503,
			body:   outcome("transient", "The access token cannot be verified at the moment"),
		},
		{
			name:   "unknown reason and code",
			err:    &AuthError{Status: 401, Code: "evil\"code", Reason: "nope\r\n"},
			status: 401,
			header: `Bearer realm="smartauth"`,
			body:   outcome("login", "The access token is invalid"),
		},
		{
			name:   "unknown reason 403",
			err:    &AuthError{Status: 403, Code: CodeInsufficientScope, Reason: "patient_mismatch"},
			status: 403,
			header: `Bearer realm="smartauth", error="insufficient_scope", error_description="The request is not allowed"`,
			body:   outcome("forbidden", "The request is not allowed"),
		},
		{
			name:   "zero status",
			err:    &AuthError{Code: CodeInvalidToken, Reason: "expired"},
			status: 401,
			header: `Bearer realm="smartauth", error="invalid_token", error_description="The access token expired"`,
			body:   outcome("login", "The access token expired"),
		},
		{
			name:   "other status",
			err:    &AuthError{Status: 500, Reason: "boom"},
			status: 500,
			body:   outcome("exception", "The request cannot be authorized"),
		},
		{
			name:   "nil",
			err:    nil,
			status: 401,
			header: `Bearer realm="smartauth", error="invalid_token", error_description="The access token is invalid"`,
			body:   outcome("login", "The access token is invalid"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			DefaultErrorHandler(rec, httptest.NewRequest(http.MethodGet, "/fhir/Patient/1", nil), tt.err)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.header, rec.Header().Get("WWW-Authenticate"))
			if tt.header != "" {
				assert.Regexp(t, challengeRE, tt.header)
			}
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Equal(t, "application/fhir+json", rec.Header().Get("Content-Type"))
			assert.Equal(t, tt.body, rec.Body.String())
			assert.Equal(t, fmt.Sprint(len(tt.body)), rec.Header().Get("Content-Length"))
		})
	}
}

func TestNewErrorHandlerRealm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		realm string
		want  string
	}{
		{"https://fhir.example.org/r4", `Bearer realm="https://fhir.example.org/r4"`},
		{"", `Bearer realm=""`},
		{"a\"b\\c\r\nd é\x7f\tx", `Bearer realm="a\"b\\cd ` + "\t" + `x"`},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		NewErrorHandler(tt.realm)(rec, httptest.NewRequest(http.MethodGet, "/", nil), NewAuthError(ErrMissingToken))
		got := rec.Header().Get("WWW-Authenticate")
		assert.Equal(t, tt.want, got)
		assert.Regexp(t, challengeRE, got)
	}
}

func TestErrorDescriptionsAreWellFormed(t *testing.T) {
	t.Parallel()
	for reason, d := range reasonDescriptions {
		for i := 0; i < len(d); i++ {
			require.True(t, isErrorDescriptionChar(d[i]), "reason %s", reason)
		}
	}
	for _, m := range errorMappings {
		assert.Contains(t, reasonDescriptions, m.reason)
	}
}

func FuzzChallenge(f *testing.F) {
	f.Add("smartauth", "patient/*.rs", "expired", 401, "invalid_token")
	f.Add("a\"b\\\r\n", "x\"y z\x00", "nope", 403, "insufficient_scope")
	f.Fuzz(func(t *testing.T, realm, scope, reason string, status int, code string) {
		if status < 200 || status > 599 {
			status = 401
		}
		rec := httptest.NewRecorder()
		NewErrorHandler(realm)(rec, httptest.NewRequest(http.MethodGet, "/", nil),
			&AuthError{Status: status, Code: code, Reason: reason, Scope: scope})
		if h := rec.Header().Get("WWW-Authenticate"); h != "" && !challengeRE.MatchString(h) {
			t.Fatalf("malformed challenge %q", h)
		}
		if rec.Code != status {
			t.Fatalf("status %d, want %d", rec.Code, status)
		}
	})
}
