package middleware_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartauth/smartauth/middleware"
)

// largeSearchset returns a searchset Bundle of n Observations of patient
// p1, each about 2 KB, as a FHIR server would send it.
func largeSearchset(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"searchset","total":`)
	fmt.Fprint(&b, n)
	b.WriteString(`,"link":[{"relation":"self","url":"https://fhir.example.org/r4/Observation?patient=p1"}],"entry":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"fullUrl":"https://fhir.example.org/r4/Observation/obs-%d","resource":{"resourceType":"Observation","id":"obs-%d",`+
			`"meta":{"versionId":"1","lastUpdated":"2024-05-01T10:00:00Z","profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"]},`+
			`"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Glucose %d mg/dL, measured on 2024-05-01 at 10:00 in the central laboratory; reference range 70-99 mg/dL; fasting sample collected by venipuncture.</div>"},`+
			`"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory","display":"Laboratory"}],"text":"Laboratory"}],`+
			`"code":{"coding":[{"system":"http://loinc.org","code":"2339-0","display":"Glucose [Mass/volume] in Blood"},{"system":"http://snomed.info/sct","code":"33747003","display":"Glucose measurement, blood"}],"text":"Glucose"},`+
			`"subject":{"reference":"Patient/p1","display":"Patient One"},"encounter":{"reference":"Encounter/e-%d"},`+
			`"effectiveDateTime":"2024-05-01T10:00:00Z","issued":"2024-05-01T11:30:00.000Z",`+
			`"performer":[{"reference":"Practitioner/pr-1","display":"Dr. Example"},{"reference":"Organization/lab-1","display":"Central Laboratory"}],`+
			`"valueQuantity":{"value":%d,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"},`+
			`"interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"N","display":"Normal"}]}],`+
			`"specimen":{"reference":"Specimen/sp-%d"},"device":{"reference":"Device/analyzer-7"},`+
			`"referenceRange":[{"low":{"value":70,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"},"high":{"value":99,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"},"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/referencerange-meaning","code":"normal","display":"Normal Range"}]},"text":"70-99 mg/dL"}],`+
			`"note":[{"text":"Sample processed within 30 minutes of collection. No hemolysis observed. Result verified by the laboratory information system and released automatically according to the autoverification rules in place."}]},`+
			`"search":{"mode":"match","score":1}}`, i, i, 80+i%20, i, 80+i%20, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkVerifySearchset1000 is RequireFHIRScopes verifying a 1,000-entry
// (about 2 MB) searchset under patient/ and constrained scopes, all of it:
// buffering, decoding, checking every entry, writing. Compare with
// BenchmarkUnmarshalSearchset1000.
func BenchmarkVerifySearchset1000(b *testing.B) {
	body := largeSearchset(1000)
	for _, scopes := range []string{"patient/Observation.rs", "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"} {
		b.Run(strings.SplitN(scopes, "?", 2)[0]+map[bool]string{true: "?category", false: ""}[strings.Contains(scopes, "?")], func(b *testing.B) {
			next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+json")
				_, _ = w.Write(body)
			})
			h := middleware.RequireFHIRScopes()(next)
			target := "/Observation?patient=p1"
			if _, c, ok := strings.Cut(scopes, "?"); ok {
				target += "&" + strings.ReplaceAll(c, "|", "%7C") // the search restricts itself
			}
			r := httptest.NewRequest("GET", target, nil)
			r = r.WithContext(middleware.NewContext(r.Context(), lcWith("p1", scopes)))
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, r)
			if w.h.Get("Content-Length") != fmt.Sprint(len(body)) {
				b.Fatalf("response withheld: %v", w.h)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkUnmarshalSearchset1000 is the floor: json.Unmarshal of the same
// body into map[string]any.
func BenchmarkUnmarshalSearchset1000(b *testing.B) {
	body := largeSearchset(1000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyVsUnmarshalSearchset1000 runs the two benchmarks above
// interleaved, and reports the ratio of their medians ("ratio"): the
// verification's cost over the json.Unmarshal floor on a loaded machine.
func BenchmarkVerifyVsUnmarshalSearchset1000(b *testing.B) {
	body := largeSearchset(1000)
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write(body)
	})
	h := middleware.RequireFHIRScopes()(next)
	r := httptest.NewRequest("GET", "/Observation?patient=p1", nil)
	r = r.WithContext(middleware.NewContext(r.Context(), lcWith("p1", "patient/Observation.rs")))
	w := &discardWriter{h: http.Header{}}
	var verify, unmarshal []time.Duration
	i := 0
	for b.Loop() {
		v := func() {
			clear(w.h)
			t0 := time.Now()
			h.ServeHTTP(w, r)
			verify = append(verify, time.Since(t0))
		}
		u := func() {
			t0 := time.Now()
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				b.Fatal(err)
			}
			unmarshal = append(unmarshal, time.Since(t0))
		}
		if i%2 == 0 {
			v()
			u()
		} else {
			u()
			v()
		}
		i++
	}
	if w.h.Get("Content-Length") != fmt.Sprint(len(body)) {
		b.Fatalf("response withheld: %v", w.h)
	}
	b.ReportMetric(float64(median(verify))/float64(median(unmarshal)), "ratio")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestLargeSearchsetIsServed keeps the benchmark's body honest: about 2 MB,
// and served whole.
func TestLargeSearchsetIsServed(t *testing.T) {
	body := largeSearchset(1000)
	assert := func(cond bool, msg string) {
		t.Helper()
		if !cond {
			t.Fatal(msg)
		}
	}
	assert(len(body) > 1800000 && len(body) < 2600000, fmt.Sprintf("size %d", len(body)))
	rec := serveWith(t, "patient/Observation.rs", "GET", "/Observation?patient=p1", nil, fixedHandler(200, "application/fhir+json", string(body)))
	assert(rec.Code == 200, rec.Body.String()[:min(200, rec.Body.Len())])
	got, _ := io.ReadAll(rec.Body)
	assert(string(got) == string(body), "body changed")
}
