package smartapp

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
)

//go:embed static
var static embed.FS

// Default scopes of Config.
const (
	// DefaultStandaloneScope asks for a patient picked by the user, read
	// access to their data, the user's identity and a refresh token.
	DefaultStandaloneScope = "launch/patient openid fhirUser offline_access patient/Patient.rs patient/Observation.rs"
	// DefaultEHRScope asks for the EHR's launch context instead.
	DefaultEHRScope = "launch openid fhirUser online_access patient/Patient.rs patient/Observation.rs"
)

// Config configures the app. ClientID, RedirectURI and FHIRBaseURL are
// required.
type Config struct {
	// ClientID is the app's client_id (a public client, auth method none).
	ClientID string
	// RedirectURI is the app's registered redirect URI: the root URL of
	// the origin that serves Handler, with a trailing slash.
	RedirectURI string
	// FHIRBaseURL is the FHIR server the standalone launch proposes; the
	// user may change it, and an EHR launch names its own (iss).
	FHIRBaseURL string
	// StandaloneScope and EHRScope are the scopes requested. Zero values:
	// DefaultStandaloneScope, DefaultEHRScope.
	StandaloneScope, EHRScope string
}

// appConfig is config.json.
type appConfig struct {
	ClientID        string `json:"clientId"`
	RedirectURI     string `json:"redirectUri"`
	FHIRBaseURL     string `json:"fhirBaseUrl"`
	StandaloneScope string `json:"standaloneScope"`
	EHRScope        string `json:"ehrScope"`
}

// Handler returns the app: index.html at the root (also the redirect
// URI), app.js, app.css and config.json.
func Handler(c Config) (http.Handler, error) {
	if c.ClientID == "" || c.RedirectURI == "" || c.FHIRBaseURL == "" {
		return nil, errors.New("smartapp: ClientID, RedirectURI and FHIRBaseURL are required")
	}
	if u, err := url.Parse(c.RedirectURI); err != nil || u.Path != "/" {
		return nil, errors.New("smartapp: RedirectURI must be the root URL of the app, ending in /")
	}
	if c.StandaloneScope == "" {
		c.StandaloneScope = DefaultStandaloneScope
	}
	if c.EHRScope == "" {
		c.EHRScope = DefaultEHRScope
	}
	cfg, err := json.Marshal(appConfig{
		ClientID: c.ClientID, RedirectURI: c.RedirectURI, FHIRBaseURL: c.FHIRBaseURL,
		StandaloneScope: c.StandaloneScope, EHRScope: c.EHRScope,
	})
	if err != nil {
		return nil, err
	}
	files, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	fileServer := http.FileServerFS(files)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(cfg)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		// The redirect URI: its query holds the code, so the page is
		// neither cached nor a source of Referer.
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFileFS(w, r, files, "index.html")
	})
	mux.Handle("GET /app.js", fileServer)
	mux.Handle("GET /app.css", fileServer)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	}), nil
}
