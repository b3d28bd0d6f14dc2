package naivefhir

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// batch serves a batch or transaction Bundle: each entry is served as its
// own request, in order; a transaction is not atomic.
func (q *request) batch() {
	b, ok := q.body()
	if !ok {
		return
	}
	var in struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
			Request  struct {
				Method string `json:"method"`
				URL    string `json:"url"`
			} `json:"request"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &in); err != nil || in.ResourceType != "Bundle" || (in.Type != "batch" && in.Type != "transaction") {
		q.outcome(http.StatusBadRequest, "invalid", "not a batch or transaction Bundle")
		return
	}
	entries := make([]any, 0, len(in.Entry))
	for _, e := range in.Entry {
		target := strings.TrimPrefix(e.Request.URL, q.base)
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		r, err := http.NewRequestWithContext(q.r.Context(), strings.ToUpper(e.Request.Method), target, bytes.NewReader(e.Resource))
		if err != nil {
			entries = append(entries, map[string]any{"response": map[string]any{"status": "400 Bad Request"}})
			continue
		}
		r.Host = q.r.Host
		r.Header.Set("Content-Type", "application/fhir+json")
		rec := &recorder{header: http.Header{}}
		sub := q.s.newRequest(rec, r, q.base)
		sub.route()
		entries = append(entries, rec.entry())
	}
	q.writeJSON(http.StatusOK, bundle(in.Type+"-response", 0, nil, entries))
}

// recorder is the ResponseWriter of a batch entry.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

// entry is the batch-response entry of the recorded response.
func (r *recorder) entry() map[string]any {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	resp := map[string]any{"status": strconv.Itoa(status) + " " + http.StatusText(status)}
	if loc := r.header.Get("Location"); loc != "" {
		resp["location"] = loc
	}
	if etag := r.header.Get("ETag"); etag != "" {
		resp["etag"] = etag
	}
	e := map[string]any{"response": resp}
	var res map[string]any
	if json.Unmarshal(r.body.Bytes(), &res) == nil && res != nil {
		if res["resourceType"] == "OperationOutcome" && status >= 400 {
			resp["outcome"] = res
		} else {
			e["resource"] = res
		}
	}
	return e
}
