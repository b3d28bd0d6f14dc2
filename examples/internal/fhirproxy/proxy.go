package fhirproxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/smartauth/smartauth/middleware"
)

// Config configures the gateway.
type Config struct {
	// Upstream is the base URL of the FHIR server behind the gateway, e.g.
	// "http://127.0.0.1:8091/fhir". It trusts the gateway: it gets no
	// access token. Required.
	Upstream string
	// BaseURL is the gateway's public FHIR base URL, e.g.
	// "https://gw.example.org/fhir"; its path is where the gateway serves
	// FHIR. Required.
	BaseURL string
	// Verifier verifies the access tokens. Required.
	Verifier middleware.TokenVerifier
	// AuthOptions are more options of middleware.Authenticate.
	AuthOptions []middleware.AuthenticateOption
	// ScopeOptions are more options of middleware.RequireFHIRScopes, after
	// the gateway's own (WithBasePath, WithBaseURL, WithResourceLoader,
	// WithAuditLogger).
	ScopeOptions []middleware.FHIRScopeOption
	// Transport carries the requests to the upstream. Zero value:
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Logger logs upstream failures and the middleware's audit events
	// (never a token). Zero value: slog.Default().
	Logger *slog.Logger
}

// New returns the gateway: middleware.Authenticate, then
// middleware.RequireFHIRScopes, then a reverse proxy to the upstream that
// rewrites the upstream's base URL to the public one in response headers
// and bodies. GET [base]/metadata is served without a token (a token, if
// sent, is still verified); paths outside the base are answered 404.
func New(cfg Config) (http.Handler, error) {
	if cfg.Verifier == nil {
		return nil, errors.New("fhirproxy: no Verifier")
	}
	upstream, err := parseBase(cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("fhirproxy: Upstream: %w", err)
	}
	public, err := parseBase(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("fhirproxy: BaseURL: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	basePath := public.Path
	toPublic := newReplacer(upstream.String(), public.String())

	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Path = strings.TrimPrefix(pr.In.URL.Path, basePath)
			pr.Out.URL.RawPath = strings.TrimPrefix(pr.In.URL.RawPath, basePath)
			pr.SetURL(upstream)
			pr.SetXForwarded()
			// The upstream trusts the gateway, not the app's token; and it
			// must answer uncompressed, for the middleware and the rewrite.
			for _, h := range []string{"Authorization", "Forwarded", "Accept-Encoding"} {
				pr.Out.Header.Del(h)
			}
		},
		Transport: transport,
		ModifyResponse: func(resp *http.Response) error {
			for _, h := range []string{"Location", "Content-Location"} {
				if v := resp.Header.Get(h); v != "" {
					resp.Header.Set(h, toPublic.String(v))
				}
			}
			if resp.Body != nil && resp.Body != http.NoBody && isText(resp.Header.Get("Content-Type")) && resp.Header.Get("Content-Encoding") == "" {
				resp.Body = newReplacingReader(resp.Body, toPublic)
				resp.ContentLength = -1
				resp.Header.Del("Content-Length")
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logger.ErrorContext(r.Context(), "fhirproxy: upstream request failed", "error", err, "method", r.Method)
			writeOutcome(w, http.StatusBadGateway, "transient", "The FHIR server is not available")
		},
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}

	loader := &upstreamLoader{base: upstream, client: &http.Client{Transport: transport}, rewrite: toPublic}
	scopeOpts := append([]middleware.FHIRScopeOption{
		middleware.WithBasePath(basePath),
		middleware.WithBaseURL(public.String()),
		middleware.WithResourceLoader(loader),
		middleware.WithAuditLogger(logger),
	}, cfg.ScopeOptions...)
	fhir := middleware.RequireFHIRScopes(scopeOpts...)(proxy)
	protected := middleware.Authenticate(cfg.Verifier, cfg.AuthOptions...)(fhir)
	open := middleware.Authenticate(cfg.Verifier, append(append([]middleware.AuthenticateOption(nil), cfg.AuthOptions...), middleware.WithOptionalCredentials())...)(fhir)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == basePath+"/metadata" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			open.ServeHTTP(w, r)
		case p == basePath || strings.HasPrefix(p, basePath+"/"):
			protected.ServeHTTP(w, r)
		default:
			writeOutcome(w, http.StatusNotFound, "not-found", "Not a FHIR endpoint of this gateway")
		}
	}), nil
}

// parseBase parses an absolute http(s) base URL, without trailing slash.
func parseBase(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	switch {
	case err != nil:
		return nil, err
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", s)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("%q has a query, fragment or user info", s)
	}
	return u, nil
}

// isText reports whether a Content-Type names a body the gateway rewrites:
// JSON, XML or text.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "xml")
}

// writeOutcome writes a FHIR OperationOutcome.
func writeOutcome(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"resourceType": "OperationOutcome",
		"issue":        []any{map[string]any{"severity": "error", "code": code, "diagnostics": msg}},
	})
}
