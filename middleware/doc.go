// Package middleware makes a Go FHIR server a SMART App Launch 2.2 (and
// 1.0) resource server: it verifies bearer access tokens (RFC 6750), puts
// the SMART launch context they grant into the request context, and
// enforces SMART scopes on FHIR REST interactions.
//
// The pieces:
//
//   - A TokenVerifier turns a raw token into a *LaunchContext:
//     NewJWTVerifier for signed JWT access tokens (keys from JWK Set URLs
//     or static keys), NewIntrospectionVerifier for opaque tokens (RFC
//     7662), or any VerifierFunc.
//   - Authenticate is the net/http middleware that extracts the token,
//     verifies it and stores the LaunchContext (LaunchContextFrom). It
//     answers refused requests with RFC 6750 challenges and a FHIR
//     OperationOutcome (DefaultErrorHandler), and can check that the
//     token's grant has not been revoked (WithRevocationCheck).
//   - RequireFHIRScopes lets a request through only if a granted scope
//     allows its FHIR interaction; RequireScopes requires named scopes.
//
// Every middleware is an ordinary func(http.Handler) http.Handler, so they
// chain with each other, with other middleware, and with Go 1.22
// http.ServeMux patterns. Usage sketch:
//
//	v, err := middleware.NewJWTVerifier(ctx, middleware.JWTConfig{
//		JWKSURLs: []string{"https://auth.example.org/.well-known/jwks.json"},
//		Issuers:  []string{"https://auth.example.org"},
//		Audience: "https://fhir.example.org/fhir",
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	authn := middleware.Authenticate(v,
//		middleware.WithRevocationCheck(store, 30*time.Second)) // optional
//	fhir := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"))
//
//	mux := http.NewServeMux()
//	mux.Handle("GET /fhir/metadata", middleware.Authenticate(v, middleware.WithOptionalCredentials())(capabilities))
//	mux.Handle("GET /fhir/Patient/{id}", authn(fhir(readPatient)))
//
//	func readPatient(w http.ResponseWriter, r *http.Request) {
//		lc, _ := middleware.LaunchContextFrom(r.Context())
//		// lc.Patient, lc.FHIRUser, lc.Scopes, ...
//	}
//
// Errors: verifiers and middlewares wrap the package's sentinel errors
// (ErrTokenExpired, ErrBadAudience, ...); NewAuthError maps them to the
// HTTP status, RFC 6750 error code and stable Reason of an AuthError, which
// the ErrorHandler writes. No response, log line or error message ever
// contains a token, a secret or a claim value.
package middleware
