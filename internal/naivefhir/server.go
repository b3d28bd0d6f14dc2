package naivefhir

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// Server is the naive FHIR server, an http.Handler. Create one with New or
// Load; it is safe for concurrent use. Each Server has its own store:
// writes change it, and only it.
type Server struct {
	// BaseURL is the absolute base URL put in links, fullUrls and Location
	// headers, e.g. "https://ehr.example.org/fhir". Zero value: derived
	// from each request (see the package documentation). Set it before the
	// Server serves requests.
	BaseURL string
	// Now is the clock of lastUpdated. Zero value: time.Now.
	Now func() time.Time

	mu    sync.Mutex
	store *store
}

// maxBody caps request bodies.
const maxBody = 4 << 20

// ServeHTTP serves one FHIR REST request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.newRequest(w, r, s.baseURL(r)).route()
}

// newRequest prepares r for routing: its path cleaned and split, resource
// type segments in the case the store uses.
func (s *Server) newRequest(w http.ResponseWriter, r *http.Request, base string) *request {
	segs := segments(r.URL.Path)
	for i, seg := range segs {
		if i == 0 || i == 2 && seg != "_history" {
			segs[i] = s.canonicalSegment(seg)
		}
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	return &request{s: s, w: w, r: r, base: base, segs: segs, method: method}
}

// request is one request being served.
type request struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	base   string
	segs   []string
	method string
}

func (q *request) route() {
	segs, m := q.segs, q.method
	get, post := m == http.MethodGet, m == http.MethodPost
	switch n := len(segs); {
	case n == 0 && get:
		q.search(nil, "", "")
	case n == 0 && post:
		q.batch()
	case n == 1 && segs[0] == "metadata" && get:
		q.capabilities()
	case n == 1 && segs[0] == "_search" && (get || post):
		q.search(nil, "", "")
	case n == 1 && segs[0] == "_history" && get:
		q.history("", "")
	case n == 1 && strings.HasPrefix(segs[0], "$"):
		q.outcome(http.StatusNotImplemented, "not-supported", "operation not supported")
	case n == 1 && get:
		q.search([]string{segs[0]}, "", "")
	case n == 1 && post:
		q.create(segs[0])
	case n == 2 && segs[1] == "_search" && (get || post):
		q.search([]string{segs[0]}, "", "")
	case n == 2 && segs[1] == "_history" && get:
		q.history(segs[0], "")
	case n == 2 && strings.HasPrefix(segs[1], "$"):
		q.outcome(http.StatusNotImplemented, "not-supported", "operation not supported")
	case n == 2 && get:
		q.read(segs[0], segs[1], "")
	case n == 2 && m == http.MethodPut:
		q.update(segs[0], segs[1])
	case n == 2 && m == http.MethodPatch:
		q.patch(segs[0], segs[1])
	case n == 2 && m == http.MethodDelete:
		q.delete(segs[0], segs[1])
	case n == 3 && segs[2] == "_history" && get:
		q.history(segs[0], segs[1])
	case n == 3 && segs[0] == "Patient" && segs[2] == "$everything" && (get || post):
		q.everything(segs[1])
	case (n == 3 || n == 4 && segs[3] == "_search") && !strings.HasPrefix(segs[2], "$") && (get || post && n == 4):
		var types []string
		if segs[2] != "*" {
			types = []string{segs[2]}
		}
		q.search(types, segs[0], segs[1])
	case n == 4 && segs[2] == "_history" && get:
		q.read(segs[0], segs[1], segs[3])
	case m != http.MethodGet && m != http.MethodPost && m != http.MethodPut && m != http.MethodPatch && m != http.MethodDelete:
		q.outcome(http.StatusMethodNotAllowed, "not-supported", "method not allowed")
	default:
		q.outcome(http.StatusNotFound, "not-found", "unknown path")
	}
}

// segments returns the segments of the cleaned path: dot segments
// resolved, empty segments dropped.
func segments(p string) []string {
	var out []string
	for seg := range strings.SplitSeq(path.Clean("/"+p), "/") {
		if seg != "" {
			out = append(out, seg)
		}
	}
	return out
}

// canonicalSegment returns a resource type segment with the case the store
// uses for it (so that /patient/1 reads Patient/1).
func (s *Server) canonicalSegment(seg string) string {
	if seg == "" || seg[0] == '_' || seg[0] == '$' || seg == "metadata" || seg == "*" {
		return seg
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.canonicalType(seg)
}

// baseURL returns the base URL for links: BaseURL, or scheme://Host plus
// the prefix a StripPrefix in front of the Server removed.
func (s *Server) baseURL(r *http.Request) string {
	if s.BaseURL != "" {
		return strings.TrimRight(s.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	prefix := ""
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		if p, ok := strings.CutSuffix(u.EscapedPath(), r.URL.EscapedPath()); ok {
			prefix = p
		}
	}
	return strings.TrimRight(scheme+"://"+r.Host+prefix, "/")
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// writeJSON writes v as FHIR JSON with status.
func (q *request) writeJSON(status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		q.outcome(http.StatusInternalServerError, "exception", err.Error())
		return
	}
	q.w.Header().Set("Content-Type", "application/fhir+json")
	q.w.WriteHeader(status)
	_, _ = q.w.Write(b)
}

// outcome writes an OperationOutcome.
func (q *request) outcome(status int, code, msg string) {
	severity := "error"
	if status < 400 {
		severity = "information"
	}
	q.writeJSON(status, map[string]any{
		"resourceType": "OperationOutcome",
		"issue":        []any{map[string]any{"severity": severity, "code": code, "diagnostics": msg}},
	})
}

// capabilities serves the CapabilityStatement: every type stored, with
// every interaction.
func (q *request) capabilities() {
	q.s.mu.Lock()
	seen := map[string]bool{}
	var resources []any
	for _, v := range q.s.store.log {
		if seen[v.typ] {
			continue
		}
		seen[v.typ] = true
		var interactions []any
		for _, c := range []string{"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"} {
			interactions = append(interactions, map[string]any{"code": c})
		}
		resources = append(resources, map[string]any{"type": v.typ, "interaction": interactions})
	}
	q.s.mu.Unlock()
	q.writeJSON(http.StatusOK, map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         "2026-01-01",
		"kind":         "instance",
		"software":     map[string]any{"name": "naivefhir"},
		"implementation": map[string]any{
			"description": "naive in-memory FHIR server without authorization (tests only)",
			"url":         q.base,
		},
		"fhirVersion": "4.0.1",
		"format":      []any{"application/fhir+json", "json"},
		"patchFormat": []any{"application/json-patch+json"},
		"rest": []any{map[string]any{
			"mode":        "server",
			"resource":    resources,
			"interaction": []any{map[string]any{"code": "batch"}, map[string]any{"code": "transaction"}, map[string]any{"code": "search-system"}, map[string]any{"code": "history-system"}},
		}},
	})
}
