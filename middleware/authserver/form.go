package authserver

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// DefaultMaxBodySize is the request body cap ReadForm and the token endpoint
// use when none is configured: 64 KiB, far more than any token request needs
// (a client assertion is a few KiB).
const DefaultMaxBodySize = 64 << 10

// formContentType is the only request media type of OAuth endpoints
// (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1).
const formContentType = "application/x-www-form-urlencoded"

// Errors returned by parseForm. They never contain request data.
var (
	errDuplicateParameter = errors.New("authserver: parameter included more than once")
	errMalformedForm      = errors.New("authserver: malformed form encoding")
)

// ReadForm reads the parameters of an OAuth endpoint request: the body of a
// POST with media type application/x-www-form-urlencoded (a charset
// parameter, if any, must be UTF-8), at most maxBytes long
// (DefaultMaxBodySize if maxBytes <= 0).
//
// It is stricter than http.Request.ParseForm, as RFC 6749 §3.1 and §3.2
// require: a parameter included more than once is refused (even with an empty
// value), and a parameter sent without a value is treated as omitted (it is
// not in the returned url.Values). The query string is ignored.
//
// The *Error it returns is invalid_request with status 400, or 413 when the
// body is too large. It never describes parameter values. ReadForm does not
// check the method; callers do.
func ReadForm(w http.ResponseWriter, r *http.Request, maxBytes int64) (url.Values, *Error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodySize
	}
	if err := checkFormContentType(r.Header.Values("Content-Type")); err != nil {
		return nil, err
	}
	if r.ContentLength > maxBytes {
		return nil, errBodyTooLarge(nil)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, errBodyTooLarge(err)
		}
		return nil, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
			Description: "the request body could not be read", Err: err}
	}
	form, err := parseForm(string(body))
	if err != nil {
		desc := "the request body is not valid form encoding"
		if errors.Is(err, errDuplicateParameter) {
			desc = "a parameter is included more than once"
		}
		return nil, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: desc, Err: err}
	}
	return form, nil
}

func errBodyTooLarge(cause error) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeInvalidRequest,
		Description: "the request body is too large", Err: cause}
}

// checkFormContentType accepts exactly one Content-Type header whose media
// type is application/x-www-form-urlencoded, with no charset or a UTF-8 one.
func checkFormContentType(values []string) *Error {
	bad := &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
		Description: "the content type must be " + formContentType}
	if len(values) != 1 {
		return bad
	}
	mediaType, params, err := mime.ParseMediaType(values[0])
	if err != nil || mediaType != formContentType {
		return bad
	}
	for name, value := range params {
		if name != "charset" || !strings.EqualFold(value, "utf-8") {
			return bad
		}
	}
	return nil
}

// parseForm decodes an application/x-www-form-urlencoded string. Unlike
// url.ParseQuery it refuses a name that appears more than once and drops
// parameters with an empty value. Empty segments ("a=1&&b=2") are skipped; a
// segment with an empty name, a semicolon or a bad percent-escape makes the
// whole form malformed.
func parseForm(s string) (url.Values, error) {
	form := make(url.Values, 4)
	seen := make(map[string]struct{}, 4)
	for s != "" {
		var seg string
		seg, s, _ = strings.Cut(s, "&")
		if seg == "" {
			continue
		}
		if strings.Contains(seg, ";") {
			return nil, errMalformedForm
		}
		rawName, rawValue, _ := strings.Cut(seg, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil || name == "" {
			return nil, errMalformedForm
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, errMalformedForm
		}
		if _, dup := seen[name]; dup {
			return nil, errDuplicateParameter
		}
		seen[name] = struct{}{}
		if value != "" {
			form[name] = []string{value}
		}
	}
	return form, nil
}
