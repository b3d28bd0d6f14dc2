// Package leaksuite is a test suite for a SMART-protected FHIR stack: it
// sends adversarial requests with patient-scoped tokens and checks, for
// each, the exact status and that nothing of another patient's data (and
// nothing outside a scope's constraint) comes back; and it sends the
// requests that must still be served, checking the resources served and
// that unrestricted responses are streamed, not buffered.
//
// The stack under test is middleware.Authenticate and
// middleware.RequireFHIRScopes in front of a FHIR server that enforces
// nothing (naivefhir, loaded with the module's testdata/fhir), directly or
// through a gateway. Run builds a fresh stack for every case by calling
// serve with an Env: the naive server for the case, the Authenticate
// middleware (or the verifier) that accepts the suite's tokens, and a
// wrapper for the upstream handler, which lets the suite observe
// streaming. The stack serves the FHIR base at BasePath, with the public
// base URL BaseURL:
//
//	func TestLeaks(t *testing.T) {
//		leaksuite.Run(t, func(t *testing.T, env leaksuite.Env) http.Handler {
//			env.FHIR.BaseURL = leaksuite.BaseURL
//			fhir := middleware.RequireFHIRScopes(
//				middleware.WithBasePath(leaksuite.BasePath),
//				middleware.WithBaseURL(leaksuite.BaseURL),
//				middleware.WithResourceLoader(env.FHIR.Loader()))
//			return env.Authenticate(fhir(http.StripPrefix(leaksuite.BasePath, env.Upstream(env.FHIR))))
//		})
//	}
package leaksuite
