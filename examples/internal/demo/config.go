package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Config is the demo server's JSON configuration file. The default is
// built in (DefaultConfig, a copy of testdata/demo-config.json); README.md
// documents every field.
type Config struct {
	// Issuer is the iss of the tokens the demo issues. Empty: the public
	// base URL.
	Issuer string `json:"issuer,omitempty"`
	// SigningAlgorithm of access and id tokens: RS256 (default), ES256 or
	// EdDSA. A fresh key is generated at every start.
	SigningAlgorithm string `json:"signing_algorithm,omitempty"`
	// AccessTokenLifetime, e.g. "1h" (default).
	AccessTokenLifetime Duration `json:"access_token_lifetime,omitempty"`
	// Offline and Online are the refresh-token lifetimes of offline_access
	// and online_access grants.
	Offline Lifetime `json:"offline,omitempty"`
	Online  Lifetime `json:"online,omitempty"`
	// RetryWindow is how long after a refresh token was rotated its
	// client may present it again as a retry (a lost answer) and get new
	// tokens; see authserver.TokenConfig.RetryWindow (at most 1m). Absent:
	// the library's default (30s); "0s": no retry, every second
	// presentation is reuse and revokes the family.
	RetryWindow *Duration `json:"retry_window,omitempty"`
	// CORSOrigins are the browser origins allowed to call the token and
	// revocation endpoints and the FHIR routes.
	CORSOrigins []string `json:"cors_origins,omitempty"`
	// Clients are the registered OAuth clients.
	Clients []ClientConfig `json:"clients"`
	// Grants are created at start, each with a known refresh-token value, so
	// that a refresh can be tried at once.
	Grants []GrantConfig `json:"grants"`
	// TrustedIssuers are other authorization servers whose access tokens the
	// FHIR routes also accept.
	TrustedIssuers []TrustedIssuer `json:"trusted_issuers,omitempty"`
	// IntrospectionScope lets a bearer token holding this scope call the
	// introspection endpoint. Empty: only the IntrospectionClients.
	IntrospectionScope string `json:"introspection_scope,omitempty"`
	// IntrospectionClients are the confidential clients (the resource
	// servers) that may call the introspection endpoint with their client
	// credentials. Empty: none, only bearer tokens with
	// IntrospectionScope.
	IntrospectionClients []string `json:"introspection_clients,omitempty"`
}

// Lifetime is the idle and absolute lifetime of a kind of grant.
type Lifetime struct {
	Idle     Duration `json:"idle,omitempty"`
	Absolute Duration `json:"absolute,omitempty"`
}

// ClientConfig registers one client.
type ClientConfig struct {
	ClientID string `json:"client_id"`
	// AuthMethod: none, client_secret_basic, client_secret_post or
	// private_key_jwt.
	AuthMethod string `json:"auth_method"`
	// ClientSecretHash is authserver.HashSecret(secret) (preferred).
	ClientSecretHash string `json:"client_secret_hash,omitempty"`
	// ClientSecret is the plain secret, hashed at load (demo convenience
	// only: keep secrets out of files in production).
	ClientSecret string `json:"client_secret,omitempty"`
	// JWKS is the client's public JWK Set (private_key_jwt).
	JWKS json.RawMessage `json:"jwks,omitempty"`
	// JWKSURL is the client's JWK Set URL (private_key_jwt).
	JWKSURL string `json:"jwks_url,omitempty"`
	// RedirectURIs are the client's redirect URIs: a client without any
	// cannot use the authorization endpoint.
	RedirectURIs []string `json:"redirect_uris,omitempty"`
}

// GrantConfig is a grant created at start.
type GrantConfig struct {
	ClientID string `json:"client_id"`
	// RefreshToken is the initial refresh-token value (stored hashed).
	RefreshToken string `json:"refresh_token"`
	Subject      string `json:"subject,omitempty"`
	FHIRUser     string `json:"fhirUser,omitempty"`
	Scope        string `json:"scope"`
	// Launch is the SMART launch context: patient, encounter, fhirContext,
	// need_patient_banner, smart_style_url, intent, tenant.
	Launch json.RawMessage `json:"launch,omitempty"`
}

// TrustedIssuer is another authorization server.
type TrustedIssuer struct {
	Issuer  string `json:"issuer"`
	JWKSURL string `json:"jwks_url"`
}

// Duration is a time.Duration written as a Go duration string ("90m").
type Duration time.Duration

// UnmarshalJSON parses a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"1h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// maxConfigSize caps the configuration file.
const maxConfigSize = 1 << 20

// LoadConfig reads and parses a configuration file. Unknown fields are
// errors, so typos do not go unnoticed.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("demo: open config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("demo: read config: %w", err)
	}
	if len(b) > maxConfigSize {
		return nil, fmt.Errorf("demo: config larger than %d bytes", maxConfigSize)
	}
	return ParseConfig(b)
}

// ParseConfig parses a configuration document.
func ParseConfig(b []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("demo: parse config: %w", err)
	}
	if len(c.Clients) == 0 {
		return nil, fmt.Errorf("demo: config lists no clients")
	}
	return &c, nil
}
