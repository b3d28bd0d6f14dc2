package authserver

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// OAuth 2.0 error codes (RFC 6749 §5.2, RFC 7009 §2.2.1).
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeInvalidScope         = "invalid_scope"
	CodeUnsupportedTokenType = "unsupported_token_type"
	// CodeServerError (status 500) reports a fault of the server that a
	// retry will not cure: a misconfiguration, a bug, a token that could
	// not be signed.
	CodeServerError = "server_error"
	// CodeTemporarilyUnavailable (status 503, with Retry-After) reports
	// that a store the endpoint depends on failed or did not answer
	// within its deadline (StoreTimeout). Nothing the client holds was
	// lost: retrying the same request, with the same refresh token,
	// after Retry-After succeeds once the store answers again (for a
	// refresh, by the retry rule of tokenstore.Store.Rotate).
	// RFC 6749 §4.1.2.1 defines the code for the authorization endpoint;
	// these endpoints use it in the same sense.
	CodeTemporarilyUnavailable = "temporarily_unavailable"
)

// storeRetryAfter is the Retry-After of a temporarily_unavailable answer.
const storeRetryAfter = time.Second

// Error is an OAuth 2.0 error response (RFC 6749 §5.2). Its Description never
// contains a token, a secret or a client assertion.
type Error struct {
	// Status is the HTTP status: 400; 401 for invalid_client (429 when
	// the client's failed attempts are throttled); 500 for server_error;
	// 503 for temporarily_unavailable. Zero means 400.
	Status int
	// Code is the error code, one of the Code… constants.
	Code string
	// Description is the human-readable error_description.
	Description string
	// BasicChallenge asks for a WWW-Authenticate: Basic header (the
	// client tried HTTP Basic authentication and failed).
	BasicChallenge bool
	// RetryAfter, if positive, is written as the Retry-After header, in
	// whole seconds rounded up (429 and 503 answers).
	RetryAfter time.Duration
	// Err is the underlying cause, for errors.Is and for logs; it is never
	// written to the response.
	Err error
}

// Error returns "code: description".
func (e *Error) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// errorBody is the JSON shape of an error response.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// WriteError writes e as an RFC 6749 §5.2 JSON error response with
// Cache-Control: no-store and Pragma: no-cache.
func WriteError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if e.BasicChallenge {
		h.Set("WWW-Authenticate", `Basic realm="token", charset="UTF-8"`)
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(retryAfterSeconds(e.RetryAfter), 10))
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Error: e.Code, ErrorDescription: e.Description})
}

// retryAfterSeconds returns d in whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

// errServer returns the 500 server_error of a request the server could not
// handle.
func errServer(cause error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeServerError,
		Description: "the authorization server could not handle the request", Err: cause}
}

// errUnavailable returns the 503 temporarily_unavailable answer to a
// request whose store call failed or timed out, with Retry-After.
func errUnavailable(description string, cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeTemporarilyUnavailable,
		Description: description, RetryAfter: storeRetryAfter, Err: cause}
}
