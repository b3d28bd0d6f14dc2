package naivefhir_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/internal/naivefhir"
	"github.com/smartauth/smartauth/middleware"
)

const (
	p1 = "783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3"
	p2 = "5c41cecf-cf81-434f-9da7-e24e5a99dbc2"
	e1 = "41e27bbf-e5c2-4261-9f67-ca4676273959"
)

func load(t *testing.T) *naivefhir.Server {
	t.Helper()
	srv, err := naivefhir.Load(os.DirFS("../../testdata/fhir"))
	require.NoError(t, err)
	srv.BaseURL = "http://fhir.test/fhir"
	srv.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	return srv
}

// do serves one request and decodes the JSON response.
func do(t *testing.T, h http.Handler, method, target, contentType, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var doc map[string]any
	if rec.Body.Len() > 0 {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc), rec.Body.String())
	}
	return rec, doc
}

// ids lists "Type/id" of a resource, or of every entry of a Bundle.
func ids(doc map[string]any) []string {
	key := func(res map[string]any) string { return res["resourceType"].(string) + "/" + res["id"].(string) }
	if doc["resourceType"] != "Bundle" {
		return []string{key(doc)}
	}
	out := []string{}
	entries, _ := doc["entry"].([]any)
	for _, e := range entries {
		if res, ok := e.(map[string]any)["resource"].(map[string]any); ok {
			out = append(out, key(res))
		}
	}
	return out
}

func TestRead(t *testing.T) {
	srv := load(t)
	tests := []struct {
		name, target string
		status       int
		want         []string
	}{
		{"read", "/Patient/" + p1, 200, []string{"Patient/" + p1}},
		{"type case-insensitive", "/patient/" + p1, 200, []string{"Patient/" + p1}},
		{"upper case type", "/PATIENT/" + p1, 200, []string{"Patient/" + p1}},
		{"dot segments", "/Patient/" + p1 + "/../" + p2, 200, []string{"Patient/" + p2}},
		{"encoded slash", "/Patient%2F" + p2, 200, []string{"Patient/" + p2}},
		{"double and trailing slashes", "//Patient//" + p1 + "/", 200, []string{"Patient/" + p1}},
		{"vread", "/Observation/obs-glucose-1/_history/1", 200, []string{"Observation/obs-glucose-1"}},
		{"vread unknown version", "/Observation/obs-glucose-1/_history/2", 404, nil},
		{"unknown id", "/Patient/nobody", 404, nil},
		{"unknown path", "/Patient/" + p1 + "/_history/1/extra", 404, nil},
		{"instance history", "/Observation/obs-glucose-1/_history", 200, []string{"Observation/obs-glucose-1"}},
		{"type history", "/Encounter/_history", 200, []string{"Encounter/enc-other-patient-1", "Encounter/" + e1}},
		{"metadata", "/metadata", 200, []string{"CapabilityStatement/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, doc := do(t, srv, http.MethodGet, tt.target, "", "")
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Equal(t, "application/fhir+json", rec.Header().Get("Content-Type"))
			if tt.status != 200 {
				assert.Equal(t, "OperationOutcome", doc["resourceType"])
				return
			}
			if doc["resourceType"] == "CapabilityStatement" {
				assert.Equal(t, "4.0.1", doc["fhirVersion"])
				return
			}
			assert.Equal(t, tt.want, ids(doc))
		})
	}
}

func TestSearch(t *testing.T) {
	srv := load(t)
	obsP1 := []string{"Observation/obs-glucose-1", "Observation/obs-heart-rate-1", "Observation/obs-shared-1"}
	obsP2 := []string{"Observation/obs-other-patient-1", "Observation/obs-other-patient-lab-1"}
	allObs := []string{"Observation/obs-glucose-1", "Observation/obs-heart-rate-1", "Observation/obs-other-patient-1", "Observation/obs-other-patient-lab-1", "Observation/obs-shared-1"}
	tests := []struct {
		name, method, target, body string
		want                       []string
	}{
		{"patient id", "GET", "/Observation?patient=" + p1, "", obsP1},
		{"patient reference", "GET", "/Observation?patient=Patient/" + p2, "", obsP2},
		{"subject reference", "GET", "/Observation?subject=Patient/" + p2, "", obsP2},
		{"type modifier", "GET", "/Observation?subject:Patient=" + p2, "", obsP2},
		{"absolute reference, any base", "GET", "/Observation?subject=http://elsewhere.test/Patient/" + p2, "", obsP2},
		{"comma list", "GET", "/Observation?subject=Patient/" + p1 + ",Patient/" + p2, "", allObs},
		{"repeated parameter", "GET", "/Observation?patient=" + p1 + "&patient=" + p2, "", []string{}},
		{"name case-insensitive", "GET", "/Observation?SUBJECT=Patient/" + p2, "", obsP2},
		{"token code", "GET", "/Observation?category=laboratory", "", []string{"Observation/obs-glucose-1", "Observation/obs-other-patient-lab-1"}},
		{"token system|code", "GET", "/Observation?patient=" + p1 + "&category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs", "", []string{"Observation/obs-heart-rate-1", "Observation/obs-shared-1"}},
		{"code", "GET", "/Observation?code=http://loinc.org|2339-0", "", []string{"Observation/obs-glucose-1", "Observation/obs-other-patient-lab-1"}},
		{"performer", "GET", "/Observation?performer=Patient/" + p2, "", []string{"Observation/obs-shared-1"}},
		{"unknown parameter ignored", "GET", "/Observation?color=blue", "", allObs},
		{"chain ignored", "GET", "/Observation?subject.name=Nader", "", allObs},
		{"_has ignored", "GET", "/Patient?_has:Observation:patient:code=2339-0", "", []string{"Patient/" + p2, "Patient/" + p1}},
		{"_id list", "GET", "/Observation?_id=obs-glucose-1,obs-shared-1", "", []string{"Observation/obs-glucose-1", "Observation/obs-shared-1"}},
		{":missing", "GET", "/Observation?subject:missing=true", "", []string{}},
		{":not", "GET", "/Observation?category:not=laboratory", "", []string{"Observation/obs-heart-rate-1", "Observation/obs-other-patient-1", "Observation/obs-shared-1"}},
		{"string prefix", "GET", "/Patient?name=nad", "", []string{"Patient/" + p2}},
		{"family", "GET", "/Patient?family=Ebert", "", []string{"Patient/" + p1}},
		{"member", "GET", "/Group?member=" + p2, "", []string{"Group/group-other-patient-1"}},
		{"_include", "GET", "/Observation?patient=" + p1 + "&_include=Observation:performer", "", append(obsP1[:3:3], "Patient/"+p2)},
		{"_revinclude", "GET", "/Patient?_id=" + p2 + "&_revinclude=Observation:subject", "", append([]string{"Patient/" + p2}, obsP2...)},
		{"system search with _type", "GET", "/?_type=Condition,AllergyIntolerance&patient=" + p2, "", []string{"AllergyIntolerance/allergy-other-patient-1", "Condition/cond-other-patient-1"}},
		{"system _search", "GET", "/_search?_type=Group", "", []string{"Group/group-1", "Group/group-other-patient-1"}},
		{"compartment", "GET", "/Patient/" + p1 + "/Observation", "", obsP1},
		{"compartment via performer", "GET", "/Patient/" + p2 + "/Observation", "", append(obsP2[:2:2], "Observation/obs-shared-1")},
		{"compartment with parameters", "GET", "/Patient/" + p1 + "/Observation?category=laboratory", "", []string{"Observation/obs-glucose-1"}},
		{"compartment every type", "GET", "/Patient/" + p1 + "/*", "", []string{
			"AllergyIntolerance/allergy-1", "Condition/cond-1", "DiagnosticReport/dr-1", "Encounter/" + e1,
			"MedicationRequest/medreq-1", "Observation/obs-glucose-1", "Observation/obs-heart-rate-1", "Observation/obs-shared-1"}},
		{"POST _search", "POST", "/Observation/_search", "patient=" + p2, obsP2},
		{"$everything", "GET", "/Patient/" + p1 + "/$everything", "", []string{"Patient/" + p1,
			"AllergyIntolerance/allergy-1", "Condition/cond-1", "DiagnosticReport/dr-1", "Encounter/" + e1,
			"MedicationRequest/medreq-1", "Observation/obs-glucose-1", "Observation/obs-heart-rate-1", "Observation/obs-shared-1",
			"Practitioner/SMART-1234", "Organization/org-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := ""
			if tt.body != "" {
				ct = "application/x-www-form-urlencoded"
			}
			rec, doc := do(t, srv, tt.method, tt.target, ct, tt.body)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "searchset", doc["type"])
			assert.Equal(t, tt.want, ids(doc))
		})
	}
}

func TestSearchLinksAndPaging(t *testing.T) {
	srv := load(t)
	rec, doc := do(t, srv, http.MethodGet, "/Observation?_count=2&patient="+p1, "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(3), doc["total"])
	assert.Equal(t, []string{"Observation/obs-glucose-1", "Observation/obs-heart-rate-1"}, ids(doc))
	assert.Equal(t, []any{
		map[string]any{"relation": "self", "url": "http://fhir.test/fhir/Observation?_count=2&patient=" + p1},
		map[string]any{"relation": "next", "url": "http://fhir.test/fhir/Observation?_count=2&_offset=2&patient=" + p1},
	}, doc["link"])
	entry := doc["entry"].([]any)[0].(map[string]any)
	assert.Equal(t, "http://fhir.test/fhir/Observation/obs-glucose-1", entry["fullUrl"])
	assert.Equal(t, map[string]any{"mode": "match"}, entry["search"])

	rec, doc = do(t, srv, http.MethodGet, "/Observation?_summary=count&patient="+p1, "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(3), doc["total"])
	assert.Nil(t, doc["entry"])

	rec, doc = do(t, srv, http.MethodGet, "/Observation?_count=2&_offset=2&patient="+p1, "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, []string{"Observation/obs-shared-1"}, ids(doc))
	assert.Len(t, doc["link"], 1)
}

func TestBaseURLFromRequest(t *testing.T) {
	srv := load(t)
	srv.BaseURL = ""
	h := http.StripPrefix("/fhir", srv)
	rec, doc := do(t, h, http.MethodGet, "http://ehr.test/fhir/Observation?_id=obs-glucose-1", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "http://ehr.test/fhir/Observation/obs-glucose-1", doc["entry"].([]any)[0].(map[string]any)["fullUrl"])

	rec, doc = do(t, srv, http.MethodGet, "http://upstream.test/Observation?_id=obs-glucose-1", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "http://upstream.test/Observation/obs-glucose-1", doc["entry"].([]any)[0].(map[string]any)["fullUrl"])
}

func TestWrites(t *testing.T) {
	srv := load(t)
	obs := `{"resourceType":"Observation","status":"final","code":{"text":"note"},"subject":{"reference":"Patient/` + p1 + `"}}`
	steps := []struct {
		name, method, target, contentType, body string
		status                                  int
		location                                string
		check                                   func(t *testing.T, doc map[string]any)
	}{
		{"create", "POST", "/Observation", "application/fhir+json", obs, 201, "http://fhir.test/fhir/Observation/n1/_history/1",
			func(t *testing.T, doc map[string]any) {
				assert.Equal(t, "n1", doc["id"])
				assert.Equal(t, map[string]any{"versionId": "1", "lastUpdated": "2026-01-02T03:04:05Z"}, doc["meta"])
			}},
		{"create: wrong type", "POST", "/Observation", "application/fhir+json", `{"resourceType":"Patient"}`, 400, "", nil},
		{"update", "PUT", "/Observation/n1", "application/fhir+json", strings.Replace(obs, `{"resourceType":"Observation"`, `{"resourceType":"Observation","id":"n1"`, 1), 200, "http://fhir.test/fhir/Observation/n1/_history/2", nil},
		{"update: id mismatch", "PUT", "/Observation/n1", "application/fhir+json", `{"resourceType":"Observation","id":"n2"}`, 400, "", nil},
		{"update creates", "PUT", "/Observation/mine", "application/fhir+json", `{"resourceType":"Observation","id":"mine","status":"final"}`, 201, "http://fhir.test/fhir/Observation/mine/_history/1", nil},
		{"patch", "PATCH", "/Observation/n1", "application/json-patch+json", `[{"op":"test","path":"/status","value":"final"},{"op":"replace","path":"/subject/reference","value":"Patient/` + p2 + `"},{"op":"add","path":"/category","value":[]},{"op":"add","path":"/category/-","value":{"text":"x"}}]`, 200, "http://fhir.test/fhir/Observation/n1/_history/3",
			func(t *testing.T, doc map[string]any) {
				assert.Equal(t, map[string]any{"reference": "Patient/" + p2}, doc["subject"])
				assert.Equal(t, []any{map[string]any{"text": "x"}}, doc["category"])
			}},
		{"patch: failed test", "PATCH", "/Observation/n1", "application/json-patch+json", `[{"op":"test","path":"/status","value":"draft"}]`, 422, "", nil},
		{"patch: not JSON Patch", "PATCH", "/Observation/n1", "application/fhir+json", `{}`, 415, "", nil},
		{"search sees the patch", "GET", "/Observation?_id=n1&subject=" + p2, "", "", 200, "",
			func(t *testing.T, doc map[string]any) { assert.Equal(t, []string{"Observation/n1"}, ids(doc)) }},
		{"vread first version", "GET", "/Observation/n1/_history/1", "", "", 200, "",
			func(t *testing.T, doc map[string]any) {
				assert.Equal(t, map[string]any{"reference": "Patient/" + p1}, doc["subject"])
			}},
		{"delete", "DELETE", "/Observation/n1", "", "", 204, "", nil},
		{"read deleted", "GET", "/Observation/n1", "", "", 410, "", nil},
		{"history", "GET", "/Observation/n1/_history", "", "", 200, "",
			func(t *testing.T, doc map[string]any) {
				assert.Equal(t, "history", doc["type"])
				assert.Equal(t, float64(4), doc["total"])
				var methods []any
				for _, e := range doc["entry"].([]any) {
					methods = append(methods, e.(map[string]any)["request"].(map[string]any)["method"])
				}
				assert.Equal(t, []any{"DELETE", "PUT", "PUT", "POST"}, methods)
			}},
	}
	for _, st := range steps {
		rec, doc := do(t, srv, st.method, st.target, st.contentType, st.body)
		require.Equal(t, st.status, rec.Code, "%s: %s", st.name, rec.Body.String())
		assert.Equal(t, st.location, rec.Header().Get("Location"), st.name)
		if st.check != nil {
			st.check(t, doc)
		}
	}

	// The loader sees the store.
	_, err := srv.Loader().LoadResource(t.Context(), "Observation", "n1")
	assert.ErrorIs(t, err, middleware.ErrResourceNotFound)
	b, err := srv.Loader().LoadResource(t.Context(), "Observation", "mine")
	require.NoError(t, err)
	assert.JSONEq(t, `{"resourceType":"Observation","id":"mine","status":"final","meta":{"versionId":"1","lastUpdated":"2026-01-02T03:04:05Z"}}`, string(b))

	// Another Server has its own store.
	_, err = load(t).Loader().LoadResource(t.Context(), "Observation", "mine")
	assert.True(t, errors.Is(err, middleware.ErrResourceNotFound))
}

func TestBatch(t *testing.T) {
	srv := load(t)
	body := `{"resourceType":"Bundle","type":"transaction","entry":[
		{"request":{"method":"GET","url":"Patient/` + p1 + `"}},
		{"request":{"method":"GET","url":"http://fhir.test/fhir/Observation?patient=` + p2 + `"}},
		{"request":{"method":"POST","url":"Observation"},"resource":{"resourceType":"Observation","status":"final"}},
		{"request":{"method":"GET","url":"Nothing/here"}}]}`
	rec, doc := do(t, srv, http.MethodPost, "/", "application/fhir+json", body)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "transaction-response", doc["type"])
	entries := doc["entry"].([]any)
	require.Len(t, entries, 4)
	status := func(i int) any { return entries[i].(map[string]any)["response"].(map[string]any)["status"] }
	assert.Equal(t, "200 OK", status(0))
	assert.Equal(t, []string{"Patient/" + p1}, ids(entries[0].(map[string]any)["resource"].(map[string]any)))
	assert.Equal(t, []string{"Observation/obs-other-patient-1", "Observation/obs-other-patient-lab-1"}, ids(entries[1].(map[string]any)["resource"].(map[string]any)))
	assert.Equal(t, "201 Created", status(2))
	assert.Equal(t, "http://fhir.test/fhir/Observation/n1/_history/1", entries[2].(map[string]any)["response"].(map[string]any)["location"])
	assert.Equal(t, "404 Not Found", status(3))
	assert.Equal(t, "OperationOutcome", entries[3].(map[string]any)["response"].(map[string]any)["outcome"].(map[string]any)["resourceType"])

	rec, _ = do(t, srv, http.MethodPost, "/", "application/fhir+json", `{"resourceType":"Bundle","type":"collection"}`)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
}

func TestNewErrors(t *testing.T) {
	for name, resources := range map[string][]string{
		"not JSON":  {`nope`},
		"no id":     {`{"resourceType":"Patient"}`},
		"duplicate": {`{"resourceType":"Patient","id":"a"}`, `{"resourceType":"Patient","id":"a"}`},
	} {
		var bs [][]byte
		for _, r := range resources {
			bs = append(bs, []byte(r))
		}
		_, err := naivefhir.New(bs...)
		assert.Error(t, err, name)
	}
}
