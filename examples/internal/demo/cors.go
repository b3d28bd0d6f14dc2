package demo

import (
	"net/http"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// fhirExposedHeaders are the response headers, beyond the CORS-safelisted
// ones, that a browser app of an allowed origin may read: the bearer
// challenge of a refusal and the headers of FHIR writes and versions.
const fhirExposedHeaders = "WWW-Authenticate, Location, Content-Location, ETag"

// fhirCORS returns the CORS middleware of the FHIR routes: origins (the
// configured cors_origins) may call them from a browser. It answers
// preflights itself (they carry no token, so it must sit outside
// Authenticate), and its headers reach refusals too, so that an app can
// read a 401's WWW-Authenticate and refresh its token. README.md's quick
// start shows the same for any server.
func fhirCORS(origins []string) func(http.Handler) http.Handler {
	cors := authserver.CORS{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept", "If-Match", "If-None-Exist", "Prefer"},
	}
	return func(h http.Handler) http.Handler { return cors.Wrap(exposeHeaders(h)) }
}

// exposeHeaders lets browser apps read fhirExposedHeaders: it sets
// Access-Control-Expose-Headers on the responses that authserver.CORS has
// allowed (those with Access-Control-Allow-Origin, set before it calls h).
func exposeHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if w.Header().Get("Access-Control-Allow-Origin") != "" {
			w.Header().Set("Access-Control-Expose-Headers", fhirExposedHeaders)
		}
		h.ServeHTTP(w, r)
	})
}
