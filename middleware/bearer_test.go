package middleware

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var b64tokenRE = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)

// parseBearer parses an Authorization header value and checks the token's
// characters, as Authenticate does for a token it has not seen.
func parseBearer(header string, maxSize int) (string, error) {
	tok, err := parseAuthorization(header, maxSize)
	if err == nil {
		err = checkB64Token(tok)
	}
	if err != nil {
		return "", err
	}
	return tok, nil
}

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", DefaultMaxTokenSize)
	tests := []struct {
		name    string
		header  string
		token   string
		wantErr error
	}{
		{"bearer", "Bearer abc.def-ghi_jkl~mno+pqr/stu", "abc.def-ghi_jkl~mno+pqr/stu", nil},
		{"lowercase scheme", "bearer abc", "abc", nil},
		{"uppercase scheme", "BEARER abc", "abc", nil},
		{"padding", "Bearer abc==", "abc==", nil},
		// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
		{"two spaces", "Bearer  abc", "abc", nil},
		{"max size", "Bearer " + long, long, nil},
		{"empty", "", "", ErrMissingToken},
		{"basic", "Basic dXNlcjpwYXNz", "", ErrMissingToken},
		{"longer scheme", "Bearerish abc", "", ErrMissingToken},
		{"short", "Bear", "", ErrMissingToken},
		{"bearer alone", "Bearer", "", ErrMalformedRequest},
		{"bearer and spaces", "Bearer   ", "", ErrMalformedRequest},
		{"tab separator", "Bearer\tabc", "", ErrMalformedRequest},
		{"comma", "Bearer,abc", "", ErrMalformedRequest},
		{"two tokens", "Bearer abc def", "", ErrMalformedRequest},
		{"trailing space", "Bearer abc ", "", ErrMalformedRequest},
		{"quote", `Bearer ab"c`, "", ErrMalformedRequest},
		{"CRLF", "Bearer ab\r\nc", "", ErrMalformedRequest},
		{"padding only", "Bearer ==", "", ErrMalformedRequest},
		{"padding inside", "Bearer a=b", "", ErrMalformedRequest},
		{"non-ASCII", "Bearer abcé", "", ErrMalformedRequest},
		{"too large", "Bearer " + long + "a", "", ErrTokenTooLarge},
		{"too large and malformed", "Bearer " + long + " \"", "", ErrTokenTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := parseBearer(tt.header, DefaultMaxTokenSize)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Empty(t, tok)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.token, tok)
		})
	}
}

func TestParseAuthorizationUnicodeScheme(t *testing.T) {
	t.Parallel()
	// "ſ" (U+017F) folds to "s" in Unicode; it is no "Bearer" scheme.
	_, err := parseAuthorization("Bearer\u017f abc", DefaultMaxTokenSize)
	require.ErrorIs(t, err, ErrMalformedRequest)
	_, err = parseAuthorization("\u212aearer abc", DefaultMaxTokenSize) // Kelvin sign
	require.ErrorIs(t, err, ErrMissingToken)
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name    string
		x       extractor
		method  string
		target  string
		headers [][2]string
		body    string
		token   string
		wantErr error
	}{
		{name: "header", method: "GET", target: "/", headers: [][2]string{{"Authorization", "Bearer abc"}}, token: "abc"},
		{name: "none", method: "GET", target: "/", wantErr: ErrMissingToken},
		{name: "two headers", method: "GET", target: "/",
			headers: [][2]string{{"Authorization", "Bearer abc"}, {"Authorization", "Bearer abc"}}, wantErr: ErrMalformedRequest},
		{name: "basic and bearer headers", method: "GET", target: "/",
			headers: [][2]string{{"Authorization", "Basic eA=="}, {"Authorization", "Bearer abc"}}, wantErr: ErrMalformedRequest},
		{name: "query ignored by default", method: "GET", target: "/?access_token=abc", wantErr: ErrMissingToken},
		{name: "query", x: extractor{query: true}, method: "GET", target: "/?a=b&access_token=abc", token: "abc"},
		{name: "query decoded", x: extractor{query: true}, method: "GET", target: "/?access_token=a%2Bb%3D", token: "a+b="},
		{name: "query with basic header", x: extractor{query: true}, method: "GET", target: "/?access_token=abc",
			headers: [][2]string{{"Authorization", "Basic eA=="}}, token: "abc"},
		{name: "query and header", x: extractor{query: true}, method: "GET", target: "/?access_token=abc",
			headers: [][2]string{{"Authorization", "Bearer abc"}}, wantErr: ErrMalformedRequest},
		{name: "query twice", x: extractor{query: true}, method: "GET", target: "/?access_token=abc&access_token=abc", wantErr: ErrMalformedRequest},
		{name: "query empty", x: extractor{query: true}, method: "GET", target: "/?access_token=", wantErr: ErrMalformedRequest},
		{name: "query not b64token", x: extractor{query: true}, method: "GET", target: "/?access_token=a%20b", wantErr: ErrMalformedRequest},
		{name: "query too large", x: extractor{query: true, maxTokenSize: 3}, method: "GET", target: "/?access_token=abcd", wantErr: ErrTokenTooLarge},
		{name: "form ignored by default", method: "POST", target: "/", headers: [][2]string{{"Content-Type", form}},
			body: "access_token=abc", wantErr: ErrMissingToken},
		{name: "form", x: extractor{form: true}, method: "POST", target: "/", headers: [][2]string{{"Content-Type", form}},
			body: "a=1&access_token=abc", token: "abc"},
		{name: "form with charset", x: extractor{form: true}, method: "POST", target: "/",
			headers: [][2]string{{"Content-Type", "Application/X-WWW-Form-Urlencoded; charset=utf-8"}}, body: "access_token=abc", token: "abc"},
		{name: "form on PUT", x: extractor{form: true}, method: "PUT", target: "/", headers: [][2]string{{"Content-Type", form}},
			body: "access_token=abc", wantErr: ErrMissingToken},
		{name: "form with JSON", x: extractor{form: true}, method: "POST", target: "/", headers: [][2]string{{"Content-Type", "application/json"}},
			body: "access_token=abc", wantErr: ErrMissingToken},
		{name: "form without content type", x: extractor{form: true}, method: "POST", target: "/",
			body: "access_token=abc", wantErr: ErrMissingToken},
		{name: "form and header", x: extractor{form: true}, method: "POST", target: "/",
			headers: [][2]string{{"Content-Type", form}, {"Authorization", "Bearer abc"}}, body: "access_token=abc", wantErr: ErrMalformedRequest},
		{name: "form and query", x: extractor{form: true, query: true}, method: "POST", target: "/?access_token=abc",
			headers: [][2]string{{"Content-Type", form}}, body: "access_token=abc", wantErr: ErrMalformedRequest},
		{name: "form too large", x: extractor{form: true}, method: "POST", target: "/", headers: [][2]string{{"Content-Type", form}},
			body: "access_token=abc&x=" + strings.Repeat("x", MaxFormBodySize), wantErr: ErrMalformedRequest},
		{name: "header with malformed query", x: extractor{query: true}, method: "GET", target: "/?%zz&a=%",
			headers: [][2]string{{"Authorization", "Bearer abc"}}, token: "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := httptest.NewRequest(tt.method, tt.target, body)
			for _, h := range tt.headers {
				r.Header.Add(h[0], h[1])
			}
			x := tt.x
			if x.maxTokenSize == 0 {
				x.maxTokenSize = DefaultMaxTokenSize
			}
			tok, newBody, err := x.bearerToken(r)
			if err == nil {
				err = checkB64Token(tok)
			}
			if err != nil {
				tok = ""
			}
			if newBody != nil {
				// Whatever was read is replayed.
				b, rerr := io.ReadAll(newBody)
				require.NoError(t, rerr)
				if len(tt.body) <= MaxFormBodySize {
					assert.Equal(t, tt.body, string(b))
				}
				require.NoError(t, newBody.Close())
			}
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Empty(t, tok)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.token, tok)
		})
	}
}

func TestBearerTokenFormReadError(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/", iotest.ErrReader(errors.New("connection reset")))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	x := extractor{form: true, maxTokenSize: DefaultMaxTokenSize}
	_, _, err := x.bearerToken(r)
	require.ErrorIs(t, err, ErrMalformedRequest)
}

func TestBearerTokenFormDeclaredTooLarge(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("access_token=abc"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.ContentLength = MaxFormBodySize + 1
	x := extractor{form: true, maxTokenSize: DefaultMaxTokenSize}
	_, body, err := x.bearerToken(r)
	require.ErrorIs(t, err, ErrMalformedRequest)
	assert.Nil(t, body, "the body is not read")
}

func TestBearerTokenDoesNotAllocate(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/fhir/Patient/1", nil)
	r.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 1000))
	x := extractor{maxTokenSize: DefaultMaxTokenSize}
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := x.bearerToken(r); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)

	r.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 1<<20))
	allocs = testing.AllocsPerRun(100, func() {
		if _, _, err := x.bearerToken(r); !errors.Is(err, ErrTokenTooLarge) {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "an oversized token is refused without copying")
}

func FuzzBearerHeader(f *testing.F) {
	for _, s := range []string{
		"", "Bearer", "Bearer ", "Bearer abc", "bearer abc==", "Bearer  a", "Basic abc", "Bearer a b",
		"Bearer a=b", "Bearer\tabc", "BEARER ~+/._-", "Bearer " + strings.Repeat("x", 100), "Bearer \x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := parseAuthorization(header, 64)
		if err != nil {
			if tok != "" {
				t.Fatalf("token %q returned with error %v", tok, err)
			}
			if !errors.Is(err, ErrMissingToken) && !errors.Is(err, ErrMalformedRequest) && !errors.Is(err, ErrTokenTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(tok) > 64 {
			t.Fatalf("accepted token of %d bytes", len(tok))
		}
		if tok == "" || !strings.HasSuffix(header, tok) || !strings.EqualFold(header[:7], "Bearer ") {
			t.Fatalf("token %q is not the credential of %q", tok, header)
		}
		err = checkB64Token(tok)
		if b64tokenRE.MatchString(tok) != (err == nil) {
			t.Fatalf("token %q: b64token check says %v", tok, err)
		}
		if err != nil && !errors.Is(err, ErrMalformedRequest) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
