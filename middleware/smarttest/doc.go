// Package smarttest provides helpers for testing FHIR handlers protected by
// the smartauth middleware, in the spirit of net/http/httptest.
//
// An Issuer is an in-process authorization server: a signing key pair, an
// optional httptest JWKS server, and a method to mint SMART access tokens
// with a chosen patient, encounter, fhirContext, fhirUser, scopes and
// expiry. Its Middleware returns the matching Authenticate middleware, so a
// table-driven test of your own handler needs a few lines of setup:
//
//	iss := smarttest.NewIssuer(t)
//	h := iss.Middleware()(middleware.RequireFHIRScopes()(yourHandler))
//	req := iss.Request(http.MethodGet, "/Patient/123", smarttest.Claims{Patient: "123", Scope: "patient/Patient.rs"})
//	rec := httptest.NewRecorder()
//	h.ServeHTTP(rec, req)
package smarttest
