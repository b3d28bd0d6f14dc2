package middleware

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartauth/smartauth/middleware/scope"
)

// batchRequest is the part of a batch or transaction Bundle the entry
// checks read.
type batchRequest struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Entry        []struct {
		Resource json.RawMessage `json:"resource"`
		Request  *struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
	} `json:"entry"`
}

// serveBatch decides a batch or transaction (POST [base]) entry by entry:
// each entry is checked as its own request — scopes, search parameters,
// the resource it writes and the resource it changes — and one refused
// entry refuses the whole Bundle. The response, a batch-response or
// transaction-response Bundle, is verified entry by entry with each
// entry's decision.
func (h *fhirScopeHandler) serveBatch(w http.ResponseWriter, r *http.Request, lc *LaunchContext) {
	body, ae := readBody(r, h.opts.maxBody)
	if ae != nil {
		h.refuse(w, r, lc, ae)
		return
	}
	r = withBody(r, body)
	var b batchRequest
	if !isJSONMediaType(r.Header.Get("Content-Type")) || json.Unmarshal(body, &b) != nil ||
		b.ResourceType != "Bundle" || (b.Type != "batch" && b.Type != "transaction") {
		h.refuse(w, r, lc, refusal("unverifiable_request"))
		return
	}
	decisions := make([]*accessDecision, len(b.Entry))
	enforced := false
	for i, e := range b.Entry {
		if e.Request == nil {
			h.refuse(w, r, lc, refusal("unverifiable_request"))
			return
		}
		er, ok := h.entryRequest(r, e.Request.Method, e.Request.URL, e.Resource)
		if !ok {
			h.refuse(w, r, lc, refusal("unverifiable_request"))
			return
		}
		fr, err := ParseFHIRRequest(er, h.opts.basePath)
		if err != nil || fr.Interaction == scope.InteractionBatch {
			h.refuse(w, r, lc, refusal("unverifiable_request"))
			return
		}
		if fr.Interaction == scope.InteractionCapabilities {
			decisions[i] = h.unrestricted[0]
			continue
		}
		d, ae := h.decide(lc, fr)
		if ae == nil && !d.unrestricted {
			_, ae = h.checkRequest(er, lc, fr, d)
			enforced = enforced || d.enforced
		}
		if ae != nil {
			h.refuse(w, r, lc, ae)
			return
		}
		decisions[i] = d
	}
	h.serve(w, r, &accessDecision{batch: decisions, enforced: enforced})
}

// entryRequest builds the request an entry of a batch stands for: its
// method, its URL (relative to the FHIR base, or absolute under the
// configured base URL) and its resource as the body.
func (h *fhirScopeHandler) entryRequest(r *http.Request, method, rawURL string, resource json.RawMessage) (*http.Request, bool) {
	method = strings.ToUpper(method)
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return nil, false
	}
	if h.opts.baseURL != "" {
		if rest, ok := strings.CutPrefix(rawURL, h.opts.baseURL+"/"); ok {
			rawURL = rest
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.IsAbs() || u.Host != "" || strings.HasPrefix(u.Path, "/") || u.Fragment != "" {
		return nil, false
	}
	base := strings.TrimRight(h.opts.basePath, "/")
	if base != "" && base[0] != '/' {
		base = "/" + base
	}
	target := &url.URL{Path: base + "/" + u.Path, RawPath: "", RawQuery: u.RawQuery}
	if u.RawPath != "" {
		target.RawPath = base + "/" + u.RawPath
	}
	er, err := http.NewRequestWithContext(r.Context(), method, target.String(), nil)
	if err != nil {
		return nil, false
	}
	er.URL = target
	if len(resource) > 0 {
		er.Header.Set("Content-Type", "application/fhir+json")
		er = withBody(er, resource)
	}
	return er, true
}
