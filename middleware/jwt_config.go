package middleware

import (
	"context"
	"crypto"
	"log/slog"
	"net/http"
	"time"
)

// JWTConfig configures NewJWTVerifier. The zero value of every optional field
// is documented; Issuers, an audience and at least one key source are
// required.
type JWTConfig struct {
	// JWKSURLs are the JWK Set URLs of the trusted authorization
	// server(s). Keys are fetched once at start and refreshed every
	// JWKSRefreshInterval, and when a token names an unknown kid (at most
	// once per UnknownKIDRefreshInterval).
	JWKSURLs []string
	// StaticKeys are public verification keys known in advance, by kid
	// ("" for the key of tokens without kid): *rsa.PublicKey (2048 bits or
	// more), *ecdsa.PublicKey (P-256, P-384, P-521) or ed25519.PublicKey.
	// NewJWTVerifier refuses anything else, private keys and HMAC
	// secrets included.
	StaticKeys map[string]crypto.PublicKey
	// HMACSecrets are shared secrets for HS256, HS384 and HS512, by kid
	// ("" for tokens without kid). They are accepted only if an HS*
	// algorithm is listed in Algorithms, and each must be at least as long
	// as the hash of an allowed HS* algorithm (32 bytes for HS256; RFC 7518
	// §3.2) unless InsecureLauncherCompat is set. A kid names a static key
	// or a secret, not both. A secret is only ever used for HS* tokens,
	// and a JWK Set never supplies one.
	HMACSecrets map[string][]byte

	// Algorithms is the allow-list of JWS algorithms. Zero value: RS256,
	// RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA. "none"
	// is never accepted; HMAC algorithms only if listed here explicitly,
	// and an HMAC token is never verified with a public key.
	Algorithms []string

	// Issuers are the trusted issuers; iss must equal one exactly
	// (InsecureLauncherCompat also accepts tokens without iss).
	Issuers []string
	// Audience is this server's FHIR base URL; aud must contain it
	// (InsecureLauncherCompat also accepts tokens without aud).
	Audience string
	// AudienceFunc, if set, is used instead of Audience: it returns the
	// audience expected for the request whose context is ctx (multi-tenant
	// servers, e.g. from a tenant stored in ctx by an earlier middleware).
	AudienceFunc func(ctx context.Context) (string, error)

	// Leeway is the clock skew allowed for exp, nbf and iat. Zero value:
	// 0. Values above 60s are rejected by NewJWTVerifier.
	Leeway time.Duration
	// Now is the clock of exp, nbf and iat, and of the verified-token
	// cache. Zero value: time.Now.
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
	// UnknownKIDRefreshInterval is the least time between two refreshes
	// of the JWK Sets caused by tokens with a kid the verifier does not
	// know (a key the authorization server just published). Zero value: 5
	// minutes. Negative: an unknown kid never causes a refresh.
	UnknownKIDRefreshInterval time.Duration
	// UnknownKIDWait bounds how long a request with an unknown kid waits
	// for such a refresh to be allowed. Zero value: 0 — a request never
	// waits; if no refresh is allowed now, the token is rejected as
	// ErrUnknownKey.
	UnknownKIDWait time.Duration

	// Logger receives the verifier's warnings: failed JWK Set fetches, and
	// InsecureLauncherCompat once at start. It never receives a token.
	// Zero value: slog.Default().
	Logger *slog.Logger

	// InsecureLauncherCompat accepts tokens without iss and aud, and HMAC
	// secrets shorter than the hash, as the SMART reference launcher
	// (launch.smarthealthit.org, smart-on-fhir/smart-launcher) issues
	// them. It is for development against the launcher only: a token
	// without aud can be replayed to any resource server that trusts the
	// same key, and a short secret can be guessed. An iss or aud that is
	// present is still checked, HS256 must still be listed in Algorithms,
	// and every other check is unchanged. NewJWTVerifier logs a warning
	// when it is set.
	InsecureLauncherCompat bool
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
