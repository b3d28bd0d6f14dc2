package middleware

import "context"

// TokenVerifier verifies a raw bearer token and returns what it grants.
//
// Implementations: NewJWTVerifier (signed JWT access tokens, keys from JWKS
// URLs or static keys) and NewIntrospectionVerifier (opaque tokens, RFC 7662).
// Users may plug in their own.
//
// The returned *LaunchContext may be shared between requests (verifiers cache
// verified tokens); callers must treat it as read-only. Errors should wrap
// one of this package's sentinel errors (ErrTokenExpired, ErrBadSignature,
// ...) so that Authenticate answers with the right status; an error that
// wraps none of them is treated as an invalid token, except
// ErrVerifierUnavailable, which is answered with 503.
type TokenVerifier interface {
	VerifyToken(ctx context.Context, token string) (*LaunchContext, error)
}

// VerifierFunc adapts an ordinary function to the TokenVerifier interface.
type VerifierFunc func(ctx context.Context, token string) (*LaunchContext, error)

// VerifyToken calls f(ctx, token).
func (f VerifierFunc) VerifyToken(ctx context.Context, token string) (*LaunchContext, error) {
	return f(ctx, token)
}
