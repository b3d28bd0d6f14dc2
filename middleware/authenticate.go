package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
)

// errNoLaunchContext reports a TokenVerifier that returned neither a
// LaunchContext nor an error: a bug of the verifier, so the request is
// refused without blaming the token.
var errNoLaunchContext = fmt.Errorf("%w: verifier returned no launch context", ErrVerifierUnavailable)

// Authenticate returns a middleware that requires a valid bearer token
// (RFC 6750) on every request and stores what the token grants in the
// request context, where LaunchContextFrom finds it.
//
// For each request it extracts the token (by default only from the
// Authorization header), checks that it is an RFC 6750 b64token, calls
// v.VerifyToken(r.Context(), token), optionally checks that the token's
// grant has not been revoked (WithRevocationCheck), and then calls the
// next handler with
// r.WithContext(NewContext(r.Context(), lc)). A refused request is answered
// by the ErrorHandler (DefaultErrorHandler unless WithErrorHandler or
// WithRealm is given) with the AuthError NewAuthError makes of the error:
//
//   - no bearer token: 401 with WWW-Authenticate: Bearer realm="…" and no
//     error code (or, with WithOptionalCredentials, the request passes);
//   - a malformed Authorization header, several Authorization headers, a
//     token that is not a b64token, a token sent by more than one method:
//     400 invalid_request;
//   - a token longer than the size cap, or one the verifier rejects:
//     401 invalid_token;
//   - a verifier (or grant store) that cannot decide: 503.
//
// When v is a *JWTVerifier, a token it has verified before is looked up in
// its cache first, without the b64token check (a verified token is a
// well-formed JWS): a repeated token costs a map lookup and the two
// allocations of r.WithContext.
//
// The middleware is an ordinary func(http.Handler) http.Handler, so it
// composes with http.ServeMux patterns and any middleware chain:
//
//	mux.Handle("GET /fhir/Patient/{id}", middleware.Authenticate(v)(patientHandler))
//
// Authenticate panics if v is nil.
func Authenticate(v TokenVerifier, opts ...AuthenticateOption) func(http.Handler) http.Handler {
	if v == nil {
		panic("smartauth: Authenticate called with a nil TokenVerifier")
	}
	o := newOptions(opts)
	a := &authenticator{
		verifier:     v,
		errorHandler: o.errorHandler,
		extractor: extractor{
			maxTokenSize: o.maxTokenSize,
			query:        o.queryToken,
			form:         o.formToken,
		},
		optional:  o.optional,
		preflight: o.preflight,
		logger:    o.logger,
	}
	a.jwt, _ = v.(*JWTVerifier)
	if o.lookup != nil {
		a.revocation = newRevocationChecker(o.lookup, o.revocationInterval, o.now)
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("smartauth: Authenticate middleware applied to a nil http.Handler")
		}
		return &authenticateHandler{authenticator: a, next: next}
	}
}

// authenticator is the configuration shared by every handler one
// Authenticate call wraps (and so its revocation cache).
type authenticator struct {
	verifier     TokenVerifier
	jwt          *JWTVerifier // verifier, if it is one: its cache answers repeated tokens
	errorHandler ErrorHandler
	extractor    extractor
	optional     bool
	preflight    bool
	revocation   *revocationChecker
	logger       *slog.Logger
}

type authenticateHandler struct {
	*authenticator
	next http.Handler
}

func (h *authenticateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.preflight && isPreflight(r) {
		h.next.ServeHTTP(w, r)
		return
	}

	token, body, err := h.extractor.bearerToken(r)
	if err != nil {
		if h.optional && err == ErrMissingToken {
			if body != nil {
				r = r.WithContext(r.Context()) // shallow copy
				r.Body = body
			}
			h.next.ServeHTTP(w, r)
			return
		}
		h.refuse(w, r, err)
		return
	}

	ctx := r.Context()
	lc, err := h.verify(ctx, token)
	if err == nil && lc == nil {
		err = errNoLaunchContext
	}
	if err == nil && h.revocation != nil && lc.GrantID != "" {
		err = h.revocation.check(ctx, lc.GrantID)
	}
	if err != nil {
		h.refuse(w, r, err)
		return
	}

	r = r.WithContext(NewContext(ctx, lc))
	if body != nil {
		r.Body = body
	}
	h.next.ServeHTTP(w, r)
}

// verify returns what token grants. A token the JWT verifier has verified
// before is answered from its cache at once: an exact hit is the same
// bytes, a well-formed JWS and so a b64token. Any other token must be a
// b64token (RFC 6750 §2.1) before the verifier sees it.
func (a *authenticator) verify(ctx context.Context, token string) (*LaunchContext, error) {
	if a.jwt != nil {
		if lc, hit, err := a.jwt.cached(ctx, token); hit {
			return lc, err
		}
	}
	if err := checkB64Token(token); err != nil {
		return nil, err
	}
	if a.jwt != nil {
		return a.jwt.verify(ctx, token)
	}
	return a.verifier.VerifyToken(ctx, token)
}

// refuse answers a refused request through the ErrorHandler.
func (h *authenticateHandler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	ae := NewAuthError(err)
	if h.logger != nil {
		logRefusal(r.Context(), h.logger, ae)
	}
	h.errorHandler(w, r, ae)
}

// logRefusal logs ae's status and reason at Debug, nothing else: no token,
// no claim, no error text that a verifier might have built from them.
func logRefusal(ctx context.Context, l *slog.Logger, ae *AuthError) {
	if !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	l.LogAttrs(ctx, slog.LevelDebug, "smartauth: request refused",
		slog.Int("status", ae.Status),
		slog.String("reason", ae.Reason))
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}
