package authserver

import (
	"encoding/json"
	"net/http"
)

// OAuth 2.0 error codes (RFC 6749 §5.2, RFC 7009 §2.2.1).
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeInvalidScope         = "invalid_scope"
	CodeServerError          = "server_error"
	CodeUnsupportedTokenType = "unsupported_token_type"
)

// Error is an OAuth 2.0 error response (RFC 6749 §5.2). Its Description never
// contains a token, a secret or a client assertion.
type Error struct {
	// Status is the HTTP status: 400, or 401 for invalid_client, or 500
	// for server_error.
	Status int
	// Code is the error code, one of the Code… constants.
	Code string
	// Description is the human-readable error_description.
	Description string
	// BasicChallenge asks for a WWW-Authenticate: Basic header (the
	// client tried HTTP Basic authentication and failed).
	BasicChallenge bool
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
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Error: e.Code, ErrorDescription: e.Description})
}
