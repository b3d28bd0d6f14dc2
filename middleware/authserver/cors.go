package authserver

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CORS answers cross-origin requests (the Fetch standard) for the OAuth
// endpoints, so that browser apps (SMART public clients) can call them.
// Its zero value allows no origin: no CORS header is ever written.
type CORS struct {
	// AllowedOrigins are the origins allowed, matched exactly (scheme,
	// host and port, e.g. "https://app.example.com"). "*" allows every
	// origin; it must be listed explicitly, and credentials are never
	// allowed with it.
	AllowedOrigins []string
	// AllowedMethods answered to preflight requests. Zero value: POST.
	AllowedMethods []string
	// AllowedHeaders answered to preflight requests. Zero value:
	// Authorization, Content-Type.
	AllowedHeaders []string
	// MaxAge is how long a browser may cache a preflight answer. Zero
	// value: 10 minutes.
	MaxAge time.Duration
	// AllowCredentials sends Access-Control-Allow-Credentials: true to an
	// origin matched exactly (never for "*"). OAuth clients authenticate
	// with the Authorization header or the body, not cookies, so it is
	// rarely needed. Zero value: false.
	AllowCredentials bool
}

// Wrap returns a handler that adds CORS headers for allowed origins and
// calls h, and answers preflight requests (OPTIONS with Origin and
// Access-Control-Request-Method) itself with 204 No Content. Unless no origin
// is allowed, every response gets Vary: Origin; requests from origins not
// allowed get no CORS header (a preflight from one gets a bare 204, which the
// browser refuses).
func (c CORS) Wrap(h http.Handler) http.Handler {
	methods := strings.Join(orDefault(c.AllowedMethods, []string{http.MethodPost}), ", ")
	headers := strings.Join(orDefault(c.AllowedHeaders, []string{"Authorization", "Content-Type"}), ", ")
	maxAge := c.MaxAge
	if maxAge <= 0 {
		maxAge = 10 * time.Minute
	}
	age := strconv.Itoa(int(maxAge / time.Second))
	origins := slices.Clone(c.AllowedOrigins)
	wildcard := slices.Contains(origins, "*")
	credentials := c.AllowCredentials

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(origins) == 0 {
			h.ServeHTTP(w, r)
			return
		}
		hdr := w.Header()
		hdr.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" {
			h.ServeHTTP(w, r)
			return
		}
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		exact := slices.Contains(origins, origin)
		if exact || wildcard {
			if exact {
				hdr.Set("Access-Control-Allow-Origin", origin)
				if credentials {
					hdr.Set("Access-Control-Allow-Credentials", "true")
				}
			} else {
				hdr.Set("Access-Control-Allow-Origin", "*")
			}
			if preflight {
				hdr.Set("Access-Control-Allow-Methods", methods)
				hdr.Set("Access-Control-Allow-Headers", headers)
				hdr.Set("Access-Control-Max-Age", age)
			}
		}
		if preflight {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func orDefault(v, def []string) []string {
	if len(v) == 0 {
		return def
	}
	return v
}
