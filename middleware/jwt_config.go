package middleware

import (
	"context"
	"crypto"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// JWTConfig configures NewJWTVerifier. The zero value of every optional field
// is documented; Issuers, an audience and at least one key source are
// required.
type JWTConfig struct {
	// JWKSURLs are the JWK Set URLs of the trusted authorization
	// server(s). Keys are fetched once at start and refreshed every
	// JWKSRefreshInterval, and when a token names an unknown kid (rate
	// limited by UnknownKIDRateLimit).
	JWKSURLs []string
	// StaticKeys are verification keys known in advance, by kid ("" for a
	// key used for tokens without kid). Values are *rsa.PublicKey,
	// *ecdsa.PublicKey, ed25519.PublicKey, or []byte for HMAC (accepted
	// only if an HS* algorithm is in Algorithms).
	StaticKeys map[string]crypto.PublicKey

	// Algorithms is the allow-list of JWS algorithms. Zero value: RS256,
	// RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA. "none"
	// is never accepted; HMAC algorithms only if listed here explicitly,
	// and an HMAC token is never verified with a public key.
	Algorithms []string

	// Issuers are the trusted issuers; iss must equal one exactly.
	Issuers []string
	// Audience is this server's FHIR base URL; aud must contain it.
	Audience string
	// AudienceFunc, if set, is used instead of Audience: it returns the
	// audience expected for the request whose context is ctx (multi-tenant
	// servers, e.g. from a tenant stored in ctx by an earlier middleware).
	AudienceFunc func(ctx context.Context) (string, error)

	// Leeway is the clock skew allowed for exp, nbf and iat. Zero value:
	// 0. Values above 60s are rejected by NewJWTVerifier.
	Leeway time.Duration
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time

	// RequireType, if set (e.g. "at+jwt"), requires the typ header to
	// equal it (case-insensitively, with or without "application/").
	RequireType string
	// UnderstoodCritical lists crit header parameters the caller handles;
	// a token with any other crit parameter is rejected. Zero value: none.
	UnderstoodCritical []string

	// ClaimNames maps the SMART context to claim names. Zero value:
	// DefaultClaimNames.
	ClaimNames ClaimNames

	// CacheSize is the maximum number of verified tokens kept in memory so
	// that a repeated token is not verified again (each entry expires at
	// the token's exp). Zero value: 10000. Negative disables the cache.
	CacheSize int
	// MaxTokenSize caps the token length in bytes; longer tokens are
	// rejected before decoding. Zero value: 8192.
	MaxTokenSize int

	// HTTPClient fetches the JWK Sets. Zero value: a client with a 10s
	// timeout.
	HTTPClient *http.Client
	// JWKSRefreshInterval is how often the JWK Sets are refreshed. Zero
	// value: 1h.
	JWKSRefreshInterval time.Duration
	// UnknownKIDRateLimit limits refreshes caused by unknown kids. Zero
	// value: one every 5 minutes per verifier. Negative: never refresh
	// because of an unknown kid.
	UnknownKIDRateLimit rate.Limit
	// UnknownKIDWait bounds how long a request waits for such a refresh.
	// Zero value: 0 — a request never waits for the rate limiter; if no
	// refresh is allowed now the token is rejected as unknown key.
	UnknownKIDWait time.Duration
}

// ClaimNames are the claim (or introspection response member) names the
// SMART launch context is read from. Empty fields take the default.
type ClaimNames struct {
	Patient           string // default "patient"
	Encounter         string // default "encounter"
	FHIRContext       string // default "fhirContext"
	FHIRUser          string // default "fhirUser"
	NeedPatientBanner string // default "need_patient_banner"
	SmartStyleURL     string // default "smart_style_url"
	Intent            string // default "intent"
	Tenant            string // default "tenant"
	Scope             string // default "scope" (space-separated string, or an array of strings)
	ClientID          string // default "client_id" (falls back to "azp")
	GrantID           string // default "grant_id"
	// Nested is the name of an object claim that may hold the context
	// values instead of the top level (the SMART launcher's refresh tokens
	// use "context"). Default "context". Top-level values win.
	Nested string
}
