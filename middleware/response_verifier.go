package middleware

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
)

// verifyingWriter buffers a response so that RequireFHIRScopes can verify
// it before anything reaches the client. The next handler sets headers on
// a map of its own: a withheld response leaks none of them. It has no
// Unwrap method, so http.ResponseController cannot reach the underlying
// writer around it; Flush is not supported for the same reason.
type verifyingWriter struct {
	header http.Header
	status int
	buf    *bytes.Buffer
	max    int64
	over   bool
}

// maxPooledBuffer is the largest buffer kept for reuse.
const maxPooledBuffer = 8 << 20

func (h *fhirScopeHandler) newVerifyingWriter() *verifyingWriter {
	buf, _ := h.buffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	return &verifyingWriter{header: make(http.Header), buf: buf, max: h.opts.maxBody}
}

// release returns the writer's buffer for reuse.
func (h *fhirScopeHandler) release(v *verifyingWriter) {
	if v.buf.Cap() <= maxPooledBuffer {
		v.buf.Reset()
		h.buffers.Put(v.buf)
	}
	v.buf = nil
}

func (v *verifyingWriter) Header() http.Header { return v.header }

func (v *verifyingWriter) WriteHeader(code int) {
	if v.status != 0 || (code >= 100 && code < 200) {
		return // informational responses are not forwarded
	}
	v.status = code
}

func (v *verifyingWriter) Write(p []byte) (int, error) {
	if v.status == 0 {
		v.status = http.StatusOK
	}
	if v.over {
		return len(p), nil
	}
	if int64(v.buf.Len())+int64(len(p)) > v.max {
		v.over = true
		v.buf.Reset()
		return len(p), nil
	}
	return v.buf.Write(p)
}

// finish verifies the buffered response and writes it to w, or withholds
// it.
func (h *fhirScopeHandler) finish(w http.ResponseWriter, v *verifyingWriter, r *http.Request, d *accessDecision) {
	status := v.status
	if status == 0 {
		status = http.StatusOK
	}
	body := v.buf.Bytes()
	switch {
	case v.over:
		h.withhold(w, r, http.StatusInternalServerError, "response_too_large")
		return
	case len(body) == 0:
		copyHeader(w.Header(), v.header)
		w.WriteHeader(status)
		return
	case !isJSONMediaType(v.header.Get("Content-Type")) && v.header.Get("Content-Type") != "":
		if status < 300 {
			status = http.StatusNotAcceptable
		}
		h.withhold(w, r, status, "unverifiable_response")
		return
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		h.withhold(w, r, http.StatusInternalServerError, "unverifiable_response")
		return
	}
	if !d.permitsResponse(doc) {
		h.withhold(w, r, http.StatusForbidden, "resource_not_permitted")
		return
	}
	hdr := w.Header()
	copyHeader(hdr, v.header)
	if hdr.Get("Content-Type") == "" {
		hdr.Set("Content-Type", "application/fhir+json")
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// withhold answers in place of a response that is not served, and logs
// the event (without any of its data).
func (h *fhirScopeHandler) withhold(w http.ResponseWriter, r *http.Request, status int, reason string) {
	lc, _ := LaunchContextFrom(r.Context())
	h.audit(r, lc, slog.LevelWarn, "smartauth: response withheld", reason)
	ae := &AuthError{Status: status, Reason: reason, Err: ErrInsufficientScope}
	if status == http.StatusForbidden {
		ae.Code = CodeInsufficientScope
	}
	h.opts.errorHandler(w, r, ae)
}

// permitsResponse reports whether a response document may be served: for
// a batch, entry by entry with the entry's own decision.
func (d *accessDecision) permitsResponse(doc map[string]any) bool {
	if d.batch == nil {
		return d.permitsDocument(doc)
	}
	if doc["resourceType"] == "OperationOutcome" {
		return true
	}
	entries, ok := doc["entry"].([]any)
	if doc["resourceType"] != "Bundle" || (!ok && doc["entry"] != nil) || len(entries) != len(d.batch) {
		return false
	}
	for i, e := range entries {
		entry, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if res, ok := entry["resource"]; ok {
			obj, ok := res.(map[string]any)
			if !ok || !d.batch[i].permitsDocument(obj) {
				return false
			}
		}
		if resp, ok := entry["response"].(map[string]any); ok {
			if o, ok := resp["outcome"]; ok {
				obj, ok := o.(map[string]any)
				if !ok || obj["resourceType"] != "OperationOutcome" {
					return false
				}
			}
		} else if entry["response"] != nil {
			return false
		}
	}
	return true
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = vs
	}
}
