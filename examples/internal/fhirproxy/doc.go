// Package fhirproxy is a SMART gateway: it puts the smartauth middleware
// in front of a FHIR server that knows nothing about SMART, as a reverse
// proxy. Every request is authenticated (middleware.Authenticate) and
// checked against the token's scopes down to the data
// (middleware.RequireFHIRScopes, which reads the resources an update,
// patch or delete changes from the upstream, and verifies restricted
// responses before a byte reaches the client); what passes is forwarded to
// the upstream without the app's token: the upstream trusts the gateway.
//
// The gateway rewrites the upstream's base URL to its own public one in
// the Location and Content-Location headers and in JSON, XML and text
// bodies (Bundle links, fullUrls, absolute references), as a stream: a
// response the token may see in full (user/ or system/ scopes) is neither
// buffered by the middleware nor by the proxy. Only the literal base URL
// is rewritten; forms escaped in another way, such as JSON's "http:\/\/…"
// or a percent-encoded URL in a query string, are left as they are, and
// so are request bodies and queries, which the upstream receives as sent.
//
// Usage sketch:
//
//	v, err := middleware.NewJWTVerifier(ctx, middleware.JWTConfig{
//		JWKSURLs: []string{"https://auth.example.org/jwks"},
//		Issuers:  []string{"https://auth.example.org"},
//		Audience: "https://gw.example.org/fhir",
//	})
//	if err != nil { ... }
//	h, err := fhirproxy.New(fhirproxy.Config{
//		Upstream: "http://fhir.internal:8080/fhir",
//		BaseURL:  "https://gw.example.org/fhir",
//		Verifier: v,
//	})
//	if err != nil { ... }
//	http.ListenAndServe(":8090", h)
package fhirproxy
