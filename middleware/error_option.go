package middleware

// ErrorOption configures how a refused request is answered. It is the one
// way to set the realm or the error rendering, and the same value works
// for all three middlewares, so that they answer with one voice:
//
//	errs := middleware.WithRealm("ehr")
//	authn := middleware.Authenticate(v, errs)
//	fhir := middleware.RequireFHIRScopes(errs, middleware.WithBasePath("/fhir"))
//	userinfo := middleware.RequireScopes("openid fhirUser", errs)
//
// Given twice to one middleware, the last one wins.
type ErrorOption struct {
	h ErrorHandler
}

var (
	_ AuthenticateOption  = ErrorOption{}
	_ FHIRScopeOption     = ErrorOption{}
	_ RequireScopesOption = ErrorOption{}
)

// WithErrorHandler answers refused requests with h. A nil h means
// DefaultErrorHandler.
func WithErrorHandler(h ErrorHandler) ErrorOption {
	if h == nil {
		h = DefaultErrorHandler
	}
	return ErrorOption{h: h}
}

// WithRealm answers refused requests like DefaultErrorHandler, naming
// realm in the WWW-Authenticate challenges: it is
// WithErrorHandler(NewErrorHandler(realm)). Zero value (no ErrorOption):
// DefaultRealm, "smartauth".
func WithRealm(realm string) ErrorOption {
	return WithErrorHandler(NewErrorHandler(realm))
}

// handler returns the configured ErrorHandler (DefaultErrorHandler for
// the zero ErrorOption).
func (e ErrorOption) handler() ErrorHandler {
	if e.h == nil {
		return DefaultErrorHandler
	}
	return e.h
}

func (e ErrorOption) applyAuthenticate(o *options)               { o.errorHandler = e.handler() }
func (e ErrorOption) applyFHIRScope(o *fhirScopeOptions)         { o.errorHandler = e.handler() }
func (e ErrorOption) applyRequireScopes(o *requireScopesOptions) { o.errorHandler = e.handler() }
