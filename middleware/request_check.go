package middleware

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/smartauth/smartauth/middleware/scope"
)

// checkRequest applies a restricted decision to the request itself: its
// search parameters (URL query and POST form) and, for writes, its body
// and the resource it changes. It returns the request to pass on, whose
// body is the bytes read if any were.
func (h *fhirScopeHandler) checkRequest(r *http.Request, lc *LaunchContext, fr FHIRRequest, d *accessDecision) (*http.Request, *AuthError) {
	switch fr.Interaction {
	case scope.InteractionCreate, scope.InteractionUpdate, scope.InteractionPatch, scope.InteractionDelete:
		if r.URL.RawQuery != "" || fr.ID == "" && fr.Interaction != scope.InteractionCreate {
			// Conditional writes name their target by search: what they
			// change cannot be verified.
			return r, refusal("unverifiable_request")
		}
		return h.checkWrite(r, fr, d)
	}

	params := r.URL.Query()
	if r.Method == http.MethodPost && (fr.Interaction == scope.InteractionSearch || fr.Interaction == scope.InteractionOperation) {
		var form url.Values
		var ae *AuthError
		if r, form, ae = h.readForm(r); ae != nil {
			return r, ae
		}
		for k, vs := range form {
			params[k] = append(params[k], vs...)
		}
	}
	if ae := d.checkSearchParams(params, fr); ae != nil {
		return r, ae
	}
	if isSearchLike(fr.Interaction) && d.contradictsAll(params) {
		return r, insufficientScope("", ErrInsufficientScope)
	}
	if isSearchLike(fr.Interaction) && d.enforced && !h.opts.searchesByHandler && !d.restrictedBySearch(fr, params) {
		return r, refusal("unrestricted_search")
	}
	return r, nil
}

// isSearchLike reports whether the interaction selects resources by
// search parameters.
func isSearchLike(i scope.Interaction) bool {
	return i == scope.InteractionSearch || i == scope.InteractionHistoryType || i == scope.InteractionHistorySystem
}

// readForm reads the application/x-www-form-urlencoded body of a POST
// search or operation. A body of another type (an operation's Parameters)
// is left to response verification.
func (h *fhirScopeHandler) readForm(r *http.Request) (*http.Request, url.Values, *AuthError) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return r, nil, nil
	}
	b, ae := readBody(r, h.opts.maxBody)
	if ae != nil {
		return r, nil, ae
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return r, nil, &AuthError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Reason: "malformed_body", Err: ErrMalformedRequest}
	}
	return withBody(r, b), form, nil
}

// readBody reads the whole request body, up to max bytes.
func readBody(r *http.Request, max int64) ([]byte, *AuthError) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, &AuthError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Reason: "malformed_body", Err: ErrMalformedRequest}
	}
	if int64(len(b)) > max {
		return nil, &AuthError{Status: http.StatusRequestEntityTooLarge, Reason: "body_too_large", Err: ErrInsufficientScope}
	}
	return b, nil
}

// withBody returns a shallow copy of r whose body is b.
func withBody(r *http.Request, b []byte) *http.Request {
	r2 := r.WithContext(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.ContentLength = int64(len(b))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return r2
}
