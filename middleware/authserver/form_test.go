package authserver

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseForm(t *testing.T) {
	tests := []struct {
		in      string
		want    url.Values
		wantErr error
	}{
		{"", url.Values{}, nil},
		{"a=1&b=2", url.Values{"a": {"1"}, "b": {"2"}}, nil},
		{"a=1&&b=2&", url.Values{"a": {"1"}, "b": {"2"}}, nil},
		{"a=x+y%2Bz%20", url.Values{"a": {"x y+z "}}, nil},
		{"a=&b=2", url.Values{"b": {"2"}}, nil},
		{"a&b=2", url.Values{"b": {"2"}}, nil},
		{"a==1", url.Values{"a": {"=1"}}, nil},
		{"a=1&a=2", nil, errDuplicateParameter},
		{"a=&a=2", nil, errDuplicateParameter},
		{"a&a", nil, errDuplicateParameter},
		{"a=1&%61=2", nil, errDuplicateParameter},
		{"a=1;b=2", nil, errMalformedForm},
		{"=1", nil, errMalformedForm},
		{"a=%zz", nil, errMalformedForm},
		{"%=1", nil, errMalformedForm},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseForm(tt.in)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReadFormCustomLimit(t *testing.T) {
	body := "grant_type=refresh_token&refresh_token=" + strings.Repeat("a", 100)
	for _, tt := range []struct {
		max    int64
		status int
	}{{int64(len(body)), 0}, {int64(len(body)) - 1, http.StatusRequestEntityTooLarge}, {0, 0}} {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		form, err := ReadForm(httptest.NewRecorder(), r, tt.max)
		if tt.status == 0 {
			require.Nil(t, err)
			assert.Equal(t, "refresh_token", form.Get("grant_type"))
			continue
		}
		require.NotNil(t, err)
		assert.Equal(t, tt.status, err.Status)
		assert.Equal(t, CodeInvalidRequest, err.Code)
	}
}

func TestReadFormContentTypeHeaders(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader("a=1"))
	r.Header.Add("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Add("Content-Type", "application/x-www-form-urlencoded")
	_, err := ReadForm(httptest.NewRecorder(), r, 0)
	require.NotNil(t, err, "two Content-Type headers are refused")
	assert.Equal(t, http.StatusBadRequest, err.Status)
}

// FuzzTokenForm: parseForm never panics, rejects every form whose decoded
// names repeat, and otherwise returns exactly the non-empty parameters with
// one value each.
func FuzzTokenForm(f *testing.F) {
	for _, s := range []string{
		"grant_type=refresh_token&refresh_token=abc",
		"a=1&a=2", "a=&a=", "a&a", "%61=1&a=2", "a=%zz", "a=1;b=2", "=", "&&&", "a=+%20+",
		"scope=openid%20profile&client_id=x", "a=%C3%A9&b=%FF",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		form, err := parseForm(s)
		// Decode independently to know the names and values.
		var names []string
		values := map[string]string{}
		malformed := false
		for seg := range strings.SplitSeq(s, "&") {
			if seg == "" {
				continue
			}
			k, v, _ := strings.Cut(seg, "=")
			dk, err1 := url.QueryUnescape(k)
			dv, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil || dk == "" || strings.Contains(seg, ";") {
				malformed = true
				break
			}
			names = append(names, dk)
			values[dk] = dv
		}
		if malformed {
			if err == nil {
				t.Fatalf("malformed form %q accepted", s)
			}
			return
		}
		if len(values) != len(names) {
			if err == nil {
				t.Fatalf("duplicate parameter in %q accepted", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid form %q rejected: %v", s, err)
		}
		for name, v := range values {
			got, ok := form[name]
			if v == "" {
				if ok {
					t.Fatalf("empty parameter %q kept", name)
				}
				continue
			}
			if len(got) != 1 || got[0] != v {
				t.Fatalf("parameter %q = %q, want [%q]", name, got, v)
			}
		}
		for name := range form {
			if _, ok := values[name]; !ok {
				t.Fatalf("unexpected parameter %q", name)
			}
		}
	})
}
