package middleware

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// DefaultMaxTokenSize is the default cap on the length of a bearer token:
// 8 KiB. Longer tokens are refused (401 invalid_token, ErrTokenTooLarge)
// before anything decodes them.
const DefaultMaxTokenSize = 8192

// MaxFormBodySize bounds how much of a request body Authenticate reads when
// WithFormToken is set and it looks for an access_token form parameter. A
// larger form body is refused with 400 invalid_request.
const MaxFormBodySize = 1 << 20

// accessTokenParam is the RFC 6750 §2.2 and §2.3 parameter name.
const accessTokenParam = "access_token"

// Errors of bearer token extraction. They wrap the package sentinels and are
// allocated once: extraction never allocates an error.
var (
	errBearerWithoutToken  = fmt.Errorf("%w: Bearer scheme without a token", ErrMalformedRequest)
	errMalformedHeader     = fmt.Errorf("%w: malformed Authorization header", ErrMalformedRequest)
	errNotB64Token         = fmt.Errorf("%w: the token is not a b64token", ErrMalformedRequest)
	errManyAuthorization   = fmt.Errorf("%w: more than one Authorization header", ErrMalformedRequest)
	errManyMethods         = fmt.Errorf("%w: token sent by more than one method", ErrMalformedRequest)
	errManyAccessTokens    = fmt.Errorf("%w: more than one access_token parameter", ErrMalformedRequest)
	errFormBodyTooLarge    = fmt.Errorf("%w: form body too large", ErrMalformedRequest)
	errUnreadableFormBody  = fmt.Errorf("%w: form body could not be read", ErrMalformedRequest)
	errEmptyAccessToken    = fmt.Errorf("%w: empty access_token parameter", ErrMalformedRequest)
	errNoBearerCredentials = ErrMissingToken
)

// extractor finds the bearer token of a request (RFC 6750 §2).
type extractor struct {
	maxTokenSize int
	query        bool // accept the access_token URI query parameter (§2.3)
	form         bool // accept the access_token form-encoded body parameter (§2.2)
}

// bearerToken returns the request's bearer token. A token is looked for in
// the Authorization header and, if enabled, in the URI query and the form
// body; exactly one of them may carry it.
//
// The token is at most maxTokenSize bytes, but its characters are not
// checked yet: the caller must check that it is a b64token (checkB64Token)
// before anything else looks at it. Authenticate does so only for tokens
// its JWT verifier has not verified before, which are b64tokens already;
// checking a kilobyte of token costs more than the rest of answering a
// repeated token.
//
// If the form body was read, body is what must replace r.Body for the next
// handler (the same bytes, then the original body's Close); otherwise body
// is nil. body may be non-nil even when err is not.
//
// err wraps ErrMissingToken (no bearer token at all), ErrMalformedRequest
// or ErrTokenTooLarge.
//
// For a request with one Authorization header, the token is a substring of
// the header value: bearerToken does not allocate.
func (x *extractor) bearerToken(r *http.Request) (token string, body io.ReadCloser, err error) {
	found := 0
	var firstErr error
	note := func(tok string, present bool, e error) {
		if !present {
			return
		}
		found++
		if e != nil && firstErr == nil {
			firstErr = e
		}
		token = tok
	}

	switch hs := r.Header["Authorization"]; len(hs) {
	case 0:
	case 1:
		tok, e := parseAuthorization(hs[0], x.maxTokenSize)
		note(tok, e != errNoBearerCredentials, e)
	default:
		return "", nil, errManyAuthorization
	}

	if x.query && r.URL != nil && r.URL.RawQuery != "" {
		// Parse errors are ignored like url.URL.Query does: a pair that
		// does not decode is not an access_token parameter.
		vals, _ := url.ParseQuery(r.URL.RawQuery)
		tok, present, e := x.tokenParam(vals)
		note(tok, present, e)
	}

	if x.form && isFormPost(r) {
		var buf []byte
		buf, body, err = readFormBody(r)
		if err != nil {
			return "", body, err
		}
		vals, _ := url.ParseQuery(string(buf))
		tok, present, e := x.tokenParam(vals)
		note(tok, present, e)
	}

	switch {
	case found == 0:
		return "", body, ErrMissingToken
	case found > 1:
		return "", body, errManyMethods
	case firstErr != nil:
		return "", body, firstErr
	}
	return token, body, nil
}

// tokenParam checks the access_token parameter of a query or form.
func (x *extractor) tokenParam(vals url.Values) (token string, present bool, err error) {
	v, ok := vals[accessTokenParam]
	switch {
	case !ok:
		return "", false, nil
	case len(v) > 1:
		return "", true, errManyAccessTokens
	case v[0] == "":
		return "", true, errEmptyAccessToken
	}
	if len(v[0]) > x.maxTokenSize {
		return "", true, ErrTokenTooLarge
	}
	return v[0], true, nil
}

// parseAuthorization parses one Authorization header value:
//
//	credentials = "Bearer" 1*SP b64token   (RFC 6750 §2.1)
//
// The scheme is matched case-insensitively (RFC 9110 §11.1). It returns
// errNoBearerCredentials (ErrMissingToken) if the value is empty or uses
// another scheme, ErrTokenTooLarge if the token is longer than maxSize, and
// an error wrapping ErrMalformedRequest if the value is a malformed Bearer
// credential. The token is a substring of v: everything after the spaces
// that follow the scheme, not yet checked to be a b64token
// (checkB64Token).
func parseAuthorization(v string, maxSize int) (string, error) {
	const scheme = "Bearer"
	if len(v) < len(scheme) || !asciiEqualFold(v[:len(scheme)], scheme) {
		return "", errNoBearerCredentials
	}
	if len(v) == len(scheme) {
		return "", errBearerWithoutToken
	}
	switch c := v[len(scheme)]; {
	case c == ' ':
	case isTChar(c):
		return "", errNoBearerCredentials // another scheme, e.g. "Bearerish"
	default:
		return "", errMalformedHeader
	}
	tok := v[len(scheme)+1:]
	for len(tok) > 0 && tok[0] == ' ' {
		tok = tok[1:]
	}
	if tok == "" {
		return "", errBearerWithoutToken
	}
	if len(tok) > maxSize {
		return "", ErrTokenTooLarge
	}
	return tok, nil
}

// checkB64Token returns an error wrapping ErrMalformedRequest unless tok is
// an RFC 6750 b64token.
func checkB64Token(tok string) error {
	if !isB64Token(tok) {
		return errNotB64Token
	}
	return nil
}

// isB64Token reports whether s matches the RFC 6750 b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
// It runs on every request, over tokens of a kilobyte or more: the padding
// is trimmed first, then the rest is checked with a table lookup per byte
// and no branch but the loop's.
func isB64Token(s string) bool {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	s = s[:end]
	var bad uint8
	i := 0
	for ; i+4 <= len(s); i += 4 {
		bad |= notB64Char[s[i]] | notB64Char[s[i+1]] | notB64Char[s[i+2]] | notB64Char[s[i+3]]
	}
	for ; i < len(s); i++ {
		bad |= notB64Char[s[i]]
	}
	return bad == 0
}

// notB64Char[c] is 0 for the b64token characters before the padding
// (ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/") and 1 for every
// other byte.
var notB64Char = func() (t [256]uint8) {
	for c := range t {
		t[c] = 1
	}
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/") {
		t[c] = 0
	}
	return t
}()

// isTChar reports whether c is an RFC 9110 tchar (a character of a token,
// such as an authentication scheme name).
func isTChar(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// asciiEqualFold reports whether s and t are equal under ASCII case
// folding (no Unicode folding: "ſ" is not "s").
func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// isFormPost reports whether r is a POST with an
// application/x-www-form-urlencoded body (RFC 6750 §2.2).
func isFormPost(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody {
		return false
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// readFormBody reads at most MaxFormBodySize bytes of r's body. body
// replays those bytes and closes the original body; it is nil only if
// nothing was read.
func readFormBody(r *http.Request) (buf []byte, body io.ReadCloser, err error) {
	if r.ContentLength > MaxFormBodySize {
		return nil, nil, errFormBodyTooLarge
	}
	buf, err = io.ReadAll(io.LimitReader(r.Body, MaxFormBodySize+1))
	body = &replayBody{Reader: bytes.NewReader(buf), orig: r.Body}
	switch {
	case err != nil:
		return nil, body, errors.Join(errUnreadableFormBody, err)
	case len(buf) > MaxFormBodySize:
		return nil, body, errFormBodyTooLarge
	}
	return buf, body, nil
}

// replayBody is a request body that was read ahead: it returns the bytes
// read and closes the original body.
type replayBody struct {
	*bytes.Reader
	orig io.ReadCloser
}

func (b *replayBody) Close() error { return b.orig.Close() }
