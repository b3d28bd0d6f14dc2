package middleware

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// DefaultRealm is the realm of the WWW-Authenticate challenges written by
// DefaultErrorHandler. For another realm, give the same ErrorOption
// (WithRealm, or WithErrorHandler(NewErrorHandler(realm))) to every
// middleware: Authenticate, RequireFHIRScopes and RequireScopes all take
// it. The realm is configuration, not request data: nothing is stored in
// the request context for it.
const DefaultRealm = "smartauth"

// The RFC 6750 §3.1 error codes used in AuthError.Code.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// ErrorHandler writes the response for a request refused by Authenticate,
// RequireFHIRScopes or RequireScopes. err is never nil.
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err *AuthError)

// DefaultErrorHandler is the ErrorHandler used when none is configured. It
// is NewErrorHandler(DefaultRealm); see there for what it writes.
func DefaultErrorHandler(w http.ResponseWriter, r *http.Request, err *AuthError) {
	defaultChallenger.serve(w, r, err)
}

var defaultChallenger = newChallenger(DefaultRealm)

// NewErrorHandler returns an ErrorHandler that answers like
// DefaultErrorHandler but names realm in its challenges. Pass the same
// handler to every middleware of a server (WithErrorHandler) so that they
// all use one realm.
//
// The response has the status err.Status (401 if zero), the headers
// Cache-Control: no-store and Content-Type: application/fhir+json, and for
// 400, 401 and 403 an RFC 6750 §3 challenge:
//
//	WWW-Authenticate: Bearer realm="smartauth"                          (no token: 401, no error code)
//	WWW-Authenticate: Bearer realm="smartauth", error="invalid_token", error_description="The access token expired"
//	WWW-Authenticate: Bearer realm="smartauth", error="invalid_request", error_description="…"
//	WWW-Authenticate: Bearer realm="smartauth", error="insufficient_scope", error_description="…", scope="patient/Observation.rs"
//
// The body is a FHIR OperationOutcome with one issue of severity "error",
// code "invalid" (400), "login" (401), "forbidden" (403), "transient" (503)
// or "exception" (any other status), and diagnostics set to the same fixed
// sentence as error_description, chosen by err.Reason. Nothing from the
// request or the token ever appears in the response: the realm is quoted as
// an RFC 9110 quoted-string with control and non-ASCII characters dropped,
// and err.Scope is reduced to RFC 6750 scope-token characters.
func NewErrorHandler(realm string) ErrorHandler {
	return newChallenger(realm).serve
}

// challenger writes error responses for one realm.
type challenger struct {
	prefix string // `Bearer realm="…"`
}

func newChallenger(realm string) *challenger {
	return &challenger{prefix: `Bearer realm=` + quoteString(realm)}
}

func (c *challenger) serve(w http.ResponseWriter, _ *http.Request, err *AuthError) {
	if err == nil {
		err = NewAuthError(nil)
	}
	status := err.Status
	if status == 0 {
		status = http.StatusUnauthorized
	}
	desc := describe(err.Reason, status)

	h := w.Header()
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		h.Set("WWW-Authenticate", c.challenge(err.Code, desc, err.Scope))
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/fhir+json")
	body := operationOutcomeBody(issueCode(status), desc)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// challenge builds the WWW-Authenticate value. code must be an RFC 6750
// error code; anything else is dropped.
func (c *challenger) challenge(code, desc, scope string) string {
	switch code {
	case CodeInvalidRequest, CodeInvalidToken, CodeInsufficientScope:
	default:
		return c.prefix
	}
	var b strings.Builder
	b.Grow(len(c.prefix) + len(code) + len(desc) + len(scope) + 48)
	b.WriteString(c.prefix)
	b.WriteString(`, error="`)
	b.WriteString(code)
	b.WriteString(`", error_description="`)
	writeFiltered(&b, desc, isErrorDescriptionChar)
	b.WriteByte('"')
	if code == CodeInsufficientScope {
		if s := sanitizeScope(scope); s != "" {
			b.WriteString(`, scope="`)
			b.WriteString(s)
			b.WriteByte('"')
		}
	}
	return b.String()
}

// NewAuthError maps err to the response Authenticate gives it: the status,
// RFC 6750 error code and Reason of the first of this package's sentinel
// errors that err wraps.
//
//	ErrMissingToken          401  ""                  missing_token
//	ErrMalformedRequest      400  invalid_request     malformed_request
//	ErrTokenTooLarge         401  invalid_token       token_too_large
//	ErrMalformedToken        401  invalid_token       malformed_token
//	ErrAlgorithmNotAllowed   401  invalid_token       bad_algorithm
//	ErrUnknownKey            401  invalid_token       unknown_key
//	ErrBadSignature          401  invalid_token       bad_signature
//	ErrBadType               401  invalid_token       bad_type
//	ErrUnsupportedCritical   401  invalid_token       unsupported_crit
//	ErrTokenExpired          401  invalid_token       expired
//	ErrTokenNotYetValid      401  invalid_token       not_yet_valid
//	ErrBadIssuer             401  invalid_token       bad_issuer
//	ErrBadAudience           401  invalid_token       bad_audience
//	ErrBadLaunchContext      401  invalid_token       bad_launch_context
//	ErrInactiveToken         401  invalid_token       inactive
//	ErrTokenRevoked          401  invalid_token       revoked
//	ErrInsufficientScope     403  insufficient_scope  insufficient_scope
//	ErrVerifierUnavailable   503  ""                  verifier_unavailable
//	anything else (and nil)  401  invalid_token       invalid_token
//
// If err is (or wraps) an *AuthError, that AuthError is returned unchanged;
// otherwise the returned AuthError's Err is err.
func NewAuthError(err error) *AuthError {
	var ae *AuthError
	if errors.As(err, &ae) && ae != nil {
		return ae
	}
	for _, m := range errorMappings {
		if errors.Is(err, m.sentinel) {
			return &AuthError{Status: m.status, Code: m.code, Reason: m.reason, Err: err}
		}
	}
	return &AuthError{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Reason: "invalid_token", Err: err}
}

type errorMapping struct {
	sentinel error
	status   int
	code     string
	reason   string
}

// errorMappings is ordered: the first match wins. Availability comes first
// so that a verifier that could not decide is never reported as a bad token.
var errorMappings = [...]errorMapping{
	{ErrVerifierUnavailable, http.StatusServiceUnavailable, "", "verifier_unavailable"},
	{ErrMissingToken, http.StatusUnauthorized, "", "missing_token"},
	{ErrMalformedRequest, http.StatusBadRequest, CodeInvalidRequest, "malformed_request"},
	{ErrInsufficientScope, http.StatusForbidden, CodeInsufficientScope, "insufficient_scope"},
	{ErrTokenTooLarge, http.StatusUnauthorized, CodeInvalidToken, "token_too_large"},
	{ErrMalformedToken, http.StatusUnauthorized, CodeInvalidToken, "malformed_token"},
	{ErrAlgorithmNotAllowed, http.StatusUnauthorized, CodeInvalidToken, "bad_algorithm"},
	{ErrUnknownKey, http.StatusUnauthorized, CodeInvalidToken, "unknown_key"},
	{ErrBadSignature, http.StatusUnauthorized, CodeInvalidToken, "bad_signature"},
	{ErrBadType, http.StatusUnauthorized, CodeInvalidToken, "bad_type"},
	{ErrUnsupportedCritical, http.StatusUnauthorized, CodeInvalidToken, "unsupported_crit"},
	{ErrTokenExpired, http.StatusUnauthorized, CodeInvalidToken, "expired"},
	{ErrTokenNotYetValid, http.StatusUnauthorized, CodeInvalidToken, "not_yet_valid"},
	{ErrBadIssuer, http.StatusUnauthorized, CodeInvalidToken, "bad_issuer"},
	{ErrBadAudience, http.StatusUnauthorized, CodeInvalidToken, "bad_audience"},
	{ErrBadLaunchContext, http.StatusUnauthorized, CodeInvalidToken, "bad_launch_context"},
	{ErrInactiveToken, http.StatusUnauthorized, CodeInvalidToken, "inactive"},
	{ErrTokenRevoked, http.StatusUnauthorized, CodeInvalidToken, "revoked"},
}

// reasonDescriptions are the fixed sentences used as error_description and
// OperationOutcome diagnostics. They contain only characters allowed in an
// RFC 6750 error_description.
var reasonDescriptions = map[string]string{
	"missing_token":        "The request carries no bearer token",
	"malformed_request":    "The request does not carry a bearer token in a valid form",
	"token_too_large":      "The access token is too large",
	"malformed_token":      "The access token is malformed",
	"bad_algorithm":        "The access token is signed with an algorithm that is not allowed",
	"unknown_key":          "The access token is signed with an unknown key",
	"bad_signature":        "The access token signature is invalid",
	"bad_type":             "The access token has the wrong type",
	"unsupported_crit":     "The access token has an unsupported critical header",
	"expired":              "The access token expired",
	"not_yet_valid":        "The access token is not yet valid",
	"bad_issuer":           "The access token was issued by an untrusted issuer",
	"bad_audience":         "The access token is not intended for this server",
	"bad_launch_context":   "The access token has a malformed launch context",
	"inactive":             "The access token is not active",
	"revoked":              "The access token has been revoked",
	"invalid_token":        "The access token is invalid",
	"insufficient_scope":   "The access token does not grant the scope this request requires",
	"verifier_unavailable": "The access token cannot be verified at the moment",

	// RequireFHIRScopes' data-level refusals.
	"patient_not_in_context":  "The request names a patient other than the patient in context",
	"unverifiable_search":     "The search uses parameters that cannot be checked against the granted scopes",
	"unrestricted_search":     "The search must be restricted to the data the granted scopes permit (e.g. by the patient in context)",
	"unverifiable_request":    "The request cannot be checked against the granted scopes",
	"unverifiable_constraint": "The granted scope constraints cannot be checked for this resource type",
	"resource_not_permitted":  "The data involved is not permitted by the granted scopes",
	"loader_required":         "Changing this resource requires proof that the granted scopes permit it",
	"loader_unavailable":      "The resource cannot be checked against the granted scopes at the moment",
	"unverifiable_response":   "The response cannot be checked against the granted scopes",
	"response_too_large":      "The response is too large to be checked against the granted scopes",
	"body_too_large":          "The request body is too large",
	"malformed_body":          "The request body is malformed",
}

// describe returns the fixed sentence for reason, or a generic one for the
// status if reason is unknown.
func describe(reason string, status int) string {
	if d, ok := reasonDescriptions[reason]; ok {
		return d
	}
	switch status {
	case http.StatusBadRequest:
		return "The request is malformed"
	case http.StatusUnauthorized:
		return "The access token is invalid"
	case http.StatusForbidden:
		return "The request is not allowed"
	case http.StatusServiceUnavailable:
		return "The access token cannot be verified at the moment"
	}
	return "The request cannot be authorized"
}

// issueCode is the FHIR IssueType code for an HTTP status.
func issueCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusUnauthorized:
		return "login"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusServiceUnavailable:
		return "transient"
	case http.StatusNotAcceptable:
		return "not-supported"
	case http.StatusRequestEntityTooLarge:
		return "too-costly"
	}
	return "exception"
}

type operationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []issue `json:"issue"`
}

type issue struct {
	Severity    string `json:"severity"`
	Code        string `json:"code"`
	Diagnostics string `json:"diagnostics"`
}

// operationOutcomeBody renders a one-issue OperationOutcome.
func operationOutcomeBody(code, diagnostics string) []byte {
	b, err := json.Marshal(operationOutcome{
		ResourceType: "OperationOutcome",
		Issue:        []issue{{Severity: "error", Code: code, Diagnostics: diagnostics}},
	})
	if err != nil { // cannot happen: only strings
		return []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)
	}
	return b
}

// quoteString returns s as an RFC 9110 quoted-string: '"' and '\' are
// escaped with a backslash, and every byte that is not HTAB or visible
// ASCII or SP (controls, DEL, non-ASCII) is dropped.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t' || (c >= 0x20 && c < 0x7f):
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// isErrorDescriptionChar reports whether c may appear in an RFC 6750
// error_description: %x20-21 / %x23-5B / %x5D-7E.
func isErrorDescriptionChar(c byte) bool {
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'
}

// isScopeTokenChar reports whether c is an RFC 6749 NQCHAR: %x21 / %x23-5B
// / %x5D-7E.
func isScopeTokenChar(c byte) bool {
	return c > 0x20 && c <= 0x7e && c != '"' && c != '\\'
}

func writeFiltered(b *strings.Builder, s string, allowed func(byte) bool) {
	for i := 0; i < len(s); i++ {
		if allowed(s[i]) {
			b.WriteByte(s[i])
		}
	}
}

// sanitizeScope reduces s to scope-tokens (runs of NQCHAR) separated by one
// SP; every other byte separates tokens.
func sanitizeScope(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inToken := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isScopeTokenChar(c) {
			if !inToken && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte(c)
			inToken = true
			continue
		}
		inToken = false
	}
	return b.String()
}
