package middleware

import "errors"

// Sentinel errors. Verifiers and middlewares wrap these (with %w) so that
// callers can test for them with errors.Is; AuthError.Reason carries the same
// information as a stable machine-readable string. None of their messages
// ever contains a token, a secret or a claim value.
var (
	// ErrMissingToken: the request carried no bearer token (401 without an
	// error code, RFC 6750 §3.1).
	ErrMissingToken = errors.New("smartauth: no bearer token")
	// ErrMalformedRequest: malformed Authorization header, several
	// Authorization headers, a token sent by more than one method, ...
	// (400 invalid_request).
	ErrMalformedRequest = errors.New("smartauth: malformed bearer token request")
	// ErrTokenTooLarge: the token exceeds the configured size cap (401
	// invalid_token); it was rejected before any decoding.
	ErrTokenTooLarge = errors.New("smartauth: token too large")
	// ErrMalformedToken: the token is not a well-formed JWT (or not decodable).
	ErrMalformedToken = errors.New("smartauth: malformed token")
	// ErrAlgorithmNotAllowed: the JWS alg is not in the allow-list (or is
	// "none", or does not match the key type).
	ErrAlgorithmNotAllowed = errors.New("smartauth: signing algorithm not allowed")
	// ErrUnknownKey: no verification key matches the token's kid.
	ErrUnknownKey = errors.New("smartauth: unknown signing key")
	// ErrBadSignature: the signature does not verify.
	ErrBadSignature = errors.New("smartauth: bad signature")
	// ErrBadType: the typ header is not the required one (at+jwt).
	ErrBadType = errors.New("smartauth: wrong token type")
	// ErrUnsupportedCritical: the token has a crit header parameter we do
	// not understand.
	ErrUnsupportedCritical = errors.New("smartauth: unsupported critical header")
	// ErrTokenExpired: exp is in the past (beyond the leeway), or missing.
	ErrTokenExpired = errors.New("smartauth: token expired")
	// ErrTokenNotYetValid: nbf (or iat) is in the future beyond the leeway.
	ErrTokenNotYetValid = errors.New("smartauth: token not yet valid")
	// ErrBadIssuer: iss is not one of the trusted issuers (exact match).
	ErrBadIssuer = errors.New("smartauth: untrusted issuer")
	// ErrBadAudience: aud does not contain this server's FHIR base URL.
	ErrBadAudience = errors.New("smartauth: wrong audience")
	// ErrBadLaunchContext: a SMART context claim has the wrong type or shape.
	ErrBadLaunchContext = errors.New("smartauth: malformed launch context")
	// ErrInactiveToken: the introspection endpoint said active:false.
	ErrInactiveToken = errors.New("smartauth: token not active")
	// ErrTokenRevoked: the token's grant (token family) has been revoked.
	ErrTokenRevoked = errors.New("smartauth: token revoked")
	// ErrInsufficientScope: the token is valid but does not grant the
	// request (403 insufficient_scope).
	ErrInsufficientScope = errors.New("smartauth: insufficient scope")
	// ErrVerifierUnavailable: the verifier could not reach what it needs
	// (introspection endpoint, token store) to decide (503).
	ErrVerifierUnavailable = errors.New("smartauth: token verifier unavailable")
)

// AuthError is how Authenticate, RequireFHIRScopes and RequireScopes
// describe a refused request to the ErrorHandler.
type AuthError struct {
	// Status is the HTTP status: 400, 401, 403 or 503.
	Status int
	// Code is the RFC 6750 error code: "invalid_request", "invalid_token",
	// "insufficient_scope", or "" for a request without credentials.
	Code string
	// Reason is a stable machine-readable reason, e.g. "expired",
	// "bad_issuer", "bad_audience", "bad_signature", "unknown_key",
	// "missing_token", "insufficient_scope". It never contains request data.
	Reason string
	// Scope is the scope hint for insufficient_scope (the scope that would
	// allow the request), or "".
	Scope string
	// Err is the underlying error; it wraps one of this package's
	// sentinels.
	Err error
}

// Error returns a message without any token or claim value.
func (e *AuthError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return "smartauth: " + e.Reason
}

// Unwrap returns the underlying error.
func (e *AuthError) Unwrap() error { return e.Err }
