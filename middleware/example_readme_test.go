package middleware_test

// The Go snippets of README.md, compiled (and, where they can run without
// a network, run). internal/readme's TestGoSnippetsAreCompiled fails if a
// README snippet appears in no _test.go file.

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/middleware/scope"
)

// Example_quickStart is the quick start of README.md. It is compiled, not
// run: its verifier would fetch the JWKS of auth.example.org.
func Example_quickStart() {
	ctx := context.Background()
	logger := slog.Default()
	capabilities := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	fhirHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

	v, err := middleware.NewJWTVerifier(ctx, middleware.JWTConfig{
		JWKSURLs:    []string{"https://auth.example.org/jwks.json"},
		Issuers:     []string{"https://auth.example.org"},
		Audience:    "https://fhir.example.org/fhir", // your FHIR base URL
		RequireType: "at+jwt",                        // optional RFC 9068 typing
	})
	if err != nil {
		log.Fatal(err)
	}
	authn := middleware.Authenticate(v, middleware.WithLogger(logger)) // refusals at Debug, never the token
	scopes := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"))

	mux := http.NewServeMux()
	mux.Handle("GET /fhir/metadata", middleware.Authenticate(v, middleware.WithOptionalCredentials())(capabilities))
	mux.Handle("/fhir/", authn(scopes(fhirHandler)))

	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}

// Example_browserApps is README.md's CORS for the FHIR routes: the
// preflight passes without a token, and answers — refusals included —
// carry the CORS headers for the allowed origin only.
func Example_browserApps() {
	authn := middleware.Authenticate(exampleVerifier)
	scopes := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"))
	fhirHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = io.WriteString(w, `{"resourceType":"Patient","id":"123"}`)
	})
	mux := http.NewServeMux()

	cors := authserver.CORS{
		AllowedOrigins: []string{"https://app.example.org"},
		AllowedMethods: []string{"GET", "POST", "PUT", "PATCH", "DELETE"},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept", "If-Match", "If-None-Exist", "Prefer"},
	}
	mux.Handle("/fhir/", cors.Wrap(exposeHeaders(authn(scopes(fhirHandler)))))

	for _, req := range []struct{ method, origin, token string }{
		{"OPTIONS", "https://app.example.org", ""},
		{"GET", "https://app.example.org", "good-token"},
		{"GET", "https://app.example.org", ""},
		{"GET", "https://other.example", "good-token"},
	} {
		r := httptest.NewRequest(req.method, "/fhir/Patient/123", nil)
		r.Header.Set("Origin", req.origin)
		if req.method == "OPTIONS" {
			r.Header.Set("Access-Control-Request-Method", "GET")
			r.Header.Set("Access-Control-Request-Headers", "authorization")
		}
		if req.token != "" {
			r.Header.Set("Authorization", "Bearer "+req.token)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(req.method, req.origin, w.Code)
		for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "WWW-Authenticate"} {
			if v := w.Header().Get(h); v != "" {
				fmt.Printf("  %s: %s\n", h, v)
			}
		}
	}
	// Output:
	// OPTIONS https://app.example.org 204
	//   Access-Control-Allow-Origin: https://app.example.org
	//   Access-Control-Allow-Headers: Authorization, Content-Type, Accept, If-Match, If-None-Exist, Prefer
	// GET https://app.example.org 200
	//   Access-Control-Allow-Origin: https://app.example.org
	//   Access-Control-Expose-Headers: WWW-Authenticate, Location, Content-Location, ETag
	// GET https://app.example.org 401
	//   Access-Control-Allow-Origin: https://app.example.org
	//   Access-Control-Expose-Headers: WWW-Authenticate, Location, Content-Location, ETag
	//   WWW-Authenticate: Bearer realm="smartauth"
	// GET https://other.example 200
}

// exposeHeaders lets browser apps read the challenge of a refusal and the
// headers of FHIR writes, on the responses CORS has allowed.
func exposeHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if w.Header().Get("Access-Control-Allow-Origin") != "" {
			w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate, Location, Content-Location, ETag")
		}
		h.ServeHTTP(w, r)
	})
}

// Example_searchRestrictedToAccess runs README.md's searchObservations:
// a search handler that restricts itself to what the token permits.
func Example_searchRestrictedToAccess() {
	h := middleware.RequireFHIRScopes(middleware.WithSearchesFilteredByHandler())(http.HandlerFunc(searchObservations))
	for _, scopes := range []string{"user/Observation.rs", "patient/Observation.rs"} {
		r := httptest.NewRequest("GET", "/Observation", nil)
		lc := &middleware.LaunchContext{Patient: "123", Scopes: scope.Parse(scopes)}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r.WithContext(middleware.NewContext(r.Context(), lc)))
		fmt.Println(scopes, w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// user/Observation.rs 200 {"resourceType":"Bundle","type":"searchset","total":0}
	// restricted to patient "123" []
	// patient/Observation.rs 200 {"resourceType":"Bundle","type":"searchset","total":0}
}

func searchObservations(w http.ResponseWriter, r *http.Request) {
	access := middleware.AccessFrom(r.Context())
	if access.Unrestricted() { // an unconstrained user/ or system/ scope
		serveSearch(w, r, nil)
		return
	}
	// Every resource served must satisfy one alternative: the compartment
	// of alt.Patient (patient/ scopes) and/or the constraints alt.Params.
	serveSearch(w, r, access.Alternatives())
	// Or filter what you found: access.Permits(resource), access.PermitsJSON(b).
}

// serveSearch stands for a server's search, restricted to alts (nil: not
// restricted). Here it finds nothing.
func serveSearch(w http.ResponseWriter, _ *http.Request, alts []middleware.Alternative) {
	for _, alt := range alts {
		fmt.Printf("restricted to patient %q %v\n", alt.Patient, alt.Params)
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	_, _ = io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","total":0}`)
}
