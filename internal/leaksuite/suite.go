package leaksuite

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/internal/naivefhir"
	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/smarttest"
)

// The FHIR base the stack under test must serve.
const (
	// BaseURL is the public FHIR base URL (middleware.WithBaseURL), and the
	// audience of the suite's tokens.
	BaseURL = "http://fhir.leaksuite.test/fhir"
	// BasePath is the path of BaseURL (middleware.WithBasePath).
	BasePath = "/fhir"
	host     = "fhir.leaksuite.test"
)

// The data set (testdata/fhir): the patient in context and the other one.
const (
	// Patient is the patient in context of every patient-scoped token.
	Patient = "783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3"
	// OtherPatient is the patient whose data must never leak.
	OtherPatient = "5c41cecf-cf81-434f-9da7-e24e5a99dbc2"
	// encounter is the patient's Encounter.
	encounter = "41e27bbf-e5c2-4261-9f67-ca4676273959"
)

// otherPatientMarkers betray the other patient's data: their id, their
// name, and the ids of the resources of theirs alone (which all contain
// "other-patient").
var otherPatientMarkers = []string{OtherPatient, "Nader", "Alysa", "other-patient"}

// shared is the patient's Observation that names the other patient as
// performer: it lies in both compartments, and its reference to the other
// patient is data the patient may see.
const shared = "Observation/obs-shared-1"

// Env is what Run gives serve to build the stack for one case.
type Env struct {
	// FHIR is a naive FHIR server holding testdata/fhir, fresh for the
	// case: the FHIR server behind the stack. Its BaseURL is not set.
	FHIR *naivefhir.Server
	// Verifier accepts the suite's tokens (issuer smarttest.DefaultIssuer,
	// audience BaseURL).
	Verifier middleware.TokenVerifier
	// Authenticate is middleware.Authenticate(Verifier).
	Authenticate func(http.Handler) http.Handler
	// Upstream must wrap FHIR where it is served (in the stack, or in the
	// upstream server of a gateway), so that the suite can tell whether a
	// response reaches the client while the FHIR server is still writing
	// it.
	Upstream func(http.Handler) http.Handler
}

// Run runs every leak and allowed case against the stack serve builds,
// each case with a fresh stack, in parallel subtests "leaks/<name>" and
// "allowed/<name>".
func Run(t *testing.T, serve func(t *testing.T, env Env) http.Handler) {
	t.Helper()
	data := loadData(t)
	iss := smarttest.NewIssuer(t, smarttest.WithAudience(BaseURL))
	for _, group := range []struct {
		name  string
		cases []Case
	}{{"leaks", leakCases()}, {"allowed", allowedCases()}} {
		t.Run(group.name, func(t *testing.T) {
			seen := map[string]bool{}
			for _, c := range group.cases {
				require.False(t, seen[c.Name], "duplicate case name %q", c.Name)
				seen[c.Name] = true
				t.Run(c.Name, func(t *testing.T) {
					t.Parallel()
					runCase(t, iss, data, serve, c)
				})
			}
		})
	}
}

// Counts returns the number of leak and allowed cases Run runs.
func Counts() (leaks, allowed int) { return len(leakCases()), len(allowedCases()) }

// loadData reads testdata/fhir of the module.
func loadData(t *testing.T) [][]byte {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "leaksuite: go.mod not found above the working directory")
		dir = parent
	}
	files, err := filepath.Glob(filepath.Join(dir, "testdata", "fhir", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var data [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		data = append(data, b)
	}
	return data
}

func runCase(t *testing.T, iss *smarttest.Issuer, data [][]byte, serve func(*testing.T, Env) http.Handler, c Case) {
	fhir, err := naivefhir.New(data...)
	require.NoError(t, err)
	probe := newStreamProbe(streamWait)
	h := serve(t, Env{
		FHIR:         fhir,
		Verifier:     iss.Verifier(),
		Authenticate: iss.Middleware(),
		Upstream:     probe.wrap,
	})
	versions := fhir.Versions()

	method := c.Method
	if method == "" {
		method = http.MethodGet
	}
	req := httptest.NewRequest(method, BasePath+c.Path, strings.NewReader(c.Body))
	req.Host = host
	if c.ContentType != "" {
		req.Header.Set("Content-Type", c.ContentType)
	}
	claims := smarttest.Claims{Patient: Patient, Scope: c.Scope}
	if c.NoPatient {
		claims.Patient = ""
	}
	req.Header.Set("Authorization", "Bearer "+iss.Token(claims))
	if c.Stream {
		req.Header.Set(streamHeader, "1")
	}
	rec := probe.recorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()

	require.Equal(t, c.Status, rec.Code, "status; body: %s", body)
	assertNoLeak(t, rec.Header(), body, c)
	if c.Status >= 400 {
		assert.Equal(t, versions, fhir.Versions(), "a refused request changed the FHIR server's data")
	}
	if c.Want != nil {
		assert.ElementsMatch(t, c.Want, served(t, body), "resources served")
	}
	if c.Location != "" {
		assert.Equal(t, c.Location, rec.Header().Get("Location"))
	}
	if c.Stream {
		assert.NoError(t, probe.err(), "unrestricted response not streamed")
	}
}

// assertNoLeak checks the headers and body of a response for the other
// patient's data and the case's Forbid markers, ignoring the resources
// the case permits (and the links of Bundles, which echo the request).
func assertNoLeak(t *testing.T, header http.Header, body string, c Case) {
	t.Helper()
	markers := append(append([]string(nil), otherPatientMarkers...), c.Forbid...)
	for k, vs := range header {
		for _, v := range vs {
			for _, m := range markers {
				assert.NotContains(t, v, m, "header %s", k)
			}
		}
	}
	exempt := map[string]bool{shared: true}
	for _, a := range c.Allow {
		exempt[a] = true
	}
	text := body
	var doc any
	if err := json.Unmarshal([]byte(body), &doc); err == nil {
		b, err := json.Marshal(withoutExempt(doc, exempt))
		require.NoError(t, err)
		text = string(b)
	}
	for _, m := range markers {
		assert.NotContains(t, text, m, "leaked %q; body: %s", m, body)
	}
}

// withoutExempt returns v without the exempt resources (and their Bundle
// entries) and without Bundle links.
func withoutExempt(v any, exempt map[string]bool) any {
	switch x := v.(type) {
	case map[string]any:
		if exempt[resourceKey(x)] {
			return nil
		}
		if res, ok := x["resource"].(map[string]any); ok && exempt[resourceKey(res)] {
			return nil
		}
		out := map[string]any{}
		for k, e := range x {
			if k == "link" && x["resourceType"] == "Bundle" {
				continue
			}
			out[k] = withoutExempt(e, exempt)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutExempt(e, exempt)
		}
		return out
	}
	return v
}

func resourceKey(res map[string]any) string {
	typ, _ := res["resourceType"].(string)
	id, _ := res["id"].(string)
	return typ + "/" + id
}

// served lists "Type/id" of the resource of a response, or of the
// resources of a Bundle's entries (for a batch-response, of the resources
// of its entries' Bundles too).
func served(t *testing.T, body string) []string {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &doc), body)
	out := []string{}
	var collect func(res map[string]any)
	collect = func(res map[string]any) {
		if res["resourceType"] != "Bundle" {
			out = append(out, resourceKey(res))
			return
		}
		entries, _ := res["entry"].([]any)
		for _, e := range entries {
			if r, ok := e.(map[string]any)["resource"].(map[string]any); ok {
				collect(r)
			}
		}
	}
	collect(doc)
	return out
}

// Case is one request of the suite and what must come of it.
type Case struct {
	// Name names the subtest.
	Name string
	// Scope is the token's scope; the token has Patient in context unless
	// NoPatient.
	Scope     string
	NoPatient bool
	// Method (default GET), Path (under BasePath, with the query), Body
	// and ContentType make the request.
	Method, Path, Body, ContentType string
	// Status is the exact status expected.
	Status int
	// Want, if not nil, are the resources ("Type/id") the response must
	// hold, in any order.
	Want []string
	// Allow are resources of the other patient the scopes grant: the leak
	// check ignores them.
	Allow []string
	// Forbid are more strings the response must not contain (e.g.
	// "vital-signs" under a laboratory-only scope).
	Forbid []string
	// Location, if not "", is the Location header expected.
	Location string
	// Stream: the response must reach the client while the FHIR server is
	// still writing it (an unrestricted request is not buffered).
	Stream bool
}
