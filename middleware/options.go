package middleware

import (
	"log/slog"
	"time"
)

// AuthenticateOption configures Authenticate. Without options Authenticate
// accepts tokens only in the Authorization header, caps them at
// DefaultMaxTokenSize, requires a token on every request (OPTIONS and HEAD
// included), does not check revocation, logs nothing and answers refusals
// with DefaultErrorHandler.
type AuthenticateOption interface {
	applyAuthenticate(*options)
}

// authenticateOptionFunc adapts a function to AuthenticateOption.
type authenticateOptionFunc func(*options)

func (f authenticateOptionFunc) applyAuthenticate(o *options) { f(o) }

type options struct {
	errorHandler       ErrorHandler
	maxTokenSize       int
	queryToken         bool
	formToken          bool
	optional           bool
	preflight          bool
	lookup             GrantLookup
	revocationInterval time.Duration
	logger             *slog.Logger
	now                func() time.Time
}

func newOptions(opts []AuthenticateOption) options {
	o := options{
		errorHandler: DefaultErrorHandler,
		maxTokenSize: DefaultMaxTokenSize,
		now:          time.Now,
	}
	for _, opt := range opts {
		if opt != nil {
			opt.applyAuthenticate(&o)
		}
	}
	return o
}

// WithMaxTokenSize caps the length of a bearer token in bytes; a longer
// token is refused with 401 invalid_token before anything decodes it. A
// value ≤ 0 means DefaultMaxTokenSize (8192).
func WithMaxTokenSize(n int) AuthenticateOption {
	return authenticateOptionFunc(func(o *options) {
		if n <= 0 {
			n = DefaultMaxTokenSize
		}
		o.maxTokenSize = n
	})
}

// WithQueryToken also accepts the token in the access_token URI query
// parameter (RFC 6750 §2.3). It is off by default: tokens in URLs end up in
// logs and browser histories, and the OAuth security BCP (RFC 9700 §4.3.2)
// says clients must not send access tokens that way.
func WithQueryToken() AuthenticateOption {
	return authenticateOptionFunc(func(o *options) { o.queryToken = true })
}

// WithFormToken also accepts the token in an access_token parameter of a
// POST application/x-www-form-urlencoded body (RFC 6750 §2.2). It is off by
// default. Authenticate then reads such bodies (at most MaxFormBodySize
// bytes; a larger body is refused with 400) and hands the next handler a
// request whose Body replays the same bytes, so r.ParseForm still works
// there.
func WithFormToken() AuthenticateOption {
	return authenticateOptionFunc(func(o *options) { o.formToken = true })
}

// WithOptionalCredentials lets a request that carries no bearer token
// through unauthenticated: the next handler sees no LaunchContext
// (LaunchContextFrom reports false). A request that does carry a token, or
// carries a malformed one, is still verified and refused if bad. Use it for
// endpoints that are public but may personalise their answer, such as a
// FHIR server's /metadata.
func WithOptionalCredentials() AuthenticateOption {
	return authenticateOptionFunc(func(o *options) { o.optional = true })
}

// WithPreflightPassthrough lets CORS preflight requests through
// unauthenticated: OPTIONS requests with an Access-Control-Request-Method
// header (browsers never send credentials with them). Other OPTIONS
// requests, and HEAD requests, are authenticated like GET; by default
// preflights are too.
func WithPreflightPassthrough() AuthenticateOption {
	return authenticateOptionFunc(func(o *options) { o.preflight = true })
}

// WithRevocationCheck makes Authenticate refuse tokens whose
// LaunchContext.GrantID names a grant (token family) that lookup reports as
// revoked, expired or unknown (401 invalid_token, ErrTokenRevoked). Each
// grant's state is looked up at most once per interval (a revoked or
// expired grant is remembered as such for good); a value ≤ 0 means
// DefaultRevocationCheckInterval (30s). Concurrent requests share one
// lookup, which is bounded to 10s. A failure of the lookup (the store is
// down) refuses the request with 503 (ErrVerifierUnavailable): the check
// fails closed. Tokens without a GrantID are not checked. A nil lookup
// disables the check. See GrantLookup.
func WithRevocationCheck(lookup GrantLookup, interval time.Duration) AuthenticateOption {
	return authenticateOptionFunc(func(o *options) {
		if interval <= 0 {
			interval = DefaultRevocationCheckInterval
		}
		o.lookup = lookup
		o.revocationInterval = interval
	})
}

// WithLogger logs every refused request at level Debug with its status and
// Reason, never the token or its claims. Zero value: no logging.
func WithLogger(l *slog.Logger) AuthenticateOption {
	return authenticateOptionFunc(func(o *options) { o.logger = l })
}

// WithRevocationClock sets the clock of the revocation check
// (WithRevocationCheck): when a grant's looked-up state is stale, and
// whether a grant has expired. A nil now means time.Now, the zero value.
//
// It is the revocation check's clock only. Token lifetimes are checked by
// the TokenVerifier with its own clock (JWTConfig.Now,
// IntrospectionVerifierConfig.Now): a test that fakes time sets both.
func WithRevocationClock(now func() time.Time) AuthenticateOption {
	return authenticateOptionFunc(func(o *options) {
		if now == nil {
			now = time.Now
		}
		o.now = now
	})
}
