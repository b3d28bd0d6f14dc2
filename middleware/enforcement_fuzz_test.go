package middleware_test

import (
	"net/http"
	"testing"

	"github.com/smartauth/smartauth/middleware"
)

// FuzzVerifyResponse feeds arbitrary response bodies through
// RequireFHIRScopes under restricted scopes. It must never panic, and a
// body is served only unchanged, only with the handler's status, and only
// if Access.PermitsJSON agrees that everything in it is permitted.
func FuzzVerifyResponse(f *testing.F) {
	for _, seed := range []string{
		obsP1Lab, obsP2Lab, patientP1, patientP2, medication, outcome404,
		searchset(obsP1Lab, obsP2Vital), searchset(obsP1Lab, searchset(obsP1Vital)),
		`{"resourceType":"Parameters","parameter":[{"name":"x","resource":` + obsP2Lab + `,"part":[{"resource":` + patientP1 + `}]}]}`,
		`{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"contained":[` + patientP2 + `]}`,
		`{"resourceType":"Bundle","entry":[{"response":{"outcome":` + obsP2Lab + `}}]}`,
		`{"resourceType":"Patient","id":"x","link":[{"other":{"reference":"Patient/p1"}}]}`,
		`{"resourceType":"Observation","subject":{"reference":"https://fhir.example.org/r4/Patient/p1"}}`,
		`[]`, `null`, `{`, `{"resourceType":1}`,
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(2))
	}
	scopeSets := []string{
		"patient/*.rs",
		"patient/Observation.rs",
		labScopeSystem,
		mixedScopes,
		"patient/*.read user/Medication.rs?code=x",
	}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		if len(body) > 1<<16 {
			return
		}
		scopes := scopeSets[int(which)%len(scopeSets)]
		var access middleware.Access
		handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			access = middleware.AccessFrom(r.Context())
			fixedHandler(200, "application/fhir+json", body).ServeHTTP(w, r)
		})
		rec := serveWith(t, scopes, http.MethodGet, "/Observation", nil, handler, middleware.WithBaseURL("https://fhir.example.org/r4"))
		permitted, err := access.PermitsJSON([]byte(body))
		switch {
		case body == "":
			if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
				t.Fatalf("an empty response became %d %q", rec.Code, rec.Body)
			}
			return
		}
		switch rec.Code {
		case http.StatusOK:
			if rec.Body.String() != body {
				t.Fatalf("served a changed body")
			}
			if err != nil || !permitted {
				t.Fatalf("served a body Permits refuses (err %v)", err)
			}
		case http.StatusForbidden, http.StatusInternalServerError:
			if err == nil && permitted {
				t.Fatalf("withheld (%d) a body Permits accepts", rec.Code)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}
