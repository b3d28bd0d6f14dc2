package authserver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ClientAssertionTypeJWTBearer is the client_assertion_type of a JWT client
// assertion (RFC 7523 §2.2).
const ClientAssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Defaults of ClientAuthConfig.
const (
	// DefaultMaxAssertionLifetime is how far in the future a client
	// assertion's exp may be (SMART: no more than five minutes).
	DefaultMaxAssertionLifetime = 5 * time.Minute
	// maxAssertionLeeway is the largest accepted ClientAuthConfig.Leeway.
	maxAssertionLeeway = time.Minute
	// DefaultFailureLimit and DefaultFailureWindow are the zero values of
	// ClientAuthConfig.FailureLimit and FailureWindow: a burst of 10
	// failed secret attempts per client_id, then one per second.
	DefaultFailureLimit  = 10
	DefaultFailureWindow = time.Second
)

// ReplayGuard records one-time values. tokenstore.Store implements it.
type ReplayGuard interface {
	// UseOnce records key as used until expiresAt. It returns an error
	// wrapping tokenstore.ErrReplayed if key was already recorded and has
	// not expired at now; any other error is a failure of the guard.
	UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error
}

// ClientAuthConfig configures a ClientAuthenticator.
type ClientAuthConfig struct {
	// Clients looks up registered clients. Required.
	Clients ClientStore
	// TokenEndpoint is the absolute URL of the endpoint the client
	// authenticates at; a client assertion's aud must be, or contain,
	// exactly this string. Required.
	TokenEndpoint string
	// Replay makes each client assertion (its jti, per client) usable only
	// once, across all instances that share it. A tokenstore.Store
	// satisfies it. Required.
	Replay ReplayGuard
	// AssertionAlgorithms are the JWS algorithms accepted for client
	// assertions. Zero value: DefaultAssertionAlgorithms(). Supported:
	// RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 and
	// EdDSA; none and the HMAC algorithms are always refused.
	AssertionAlgorithms []string
	// MaxAssertionLifetime is how far in the future a client assertion's
	// exp may be. Zero value: DefaultMaxAssertionLifetime (5 minutes).
	MaxAssertionLifetime time.Duration
	// Leeway is the clock skew allowed for exp, nbf and iat of client
	// assertions. Zero value: 0. At most one minute.
	Leeway time.Duration
	// FailureLimit is how many failed client-secret attempts
	// (client_secret_basic and client_secret_post) one client_id may make
	// in a burst: once they are spent, further attempts for that client_id
	// are refused with 429 Too Many Requests, invalid_client and
	// Retry-After, before any lookup or hashing, until one attempt is
	// regained (FailureWindow). It bounds both online guessing of a secret
	// and the CPU an attacker can spend on a slow (PBKDF2) hash. Unknown
	// and registered client_ids are tracked alike, so the throttle tells
	// nothing about which exist; successful attempts cost nothing and are
	// never held up (concurrent failing attempts admitted together may
	// overshoot the burst, and are then refused for as much longer). Each
	// ClientAuthenticator tracks at most 10,000 client_ids, forgetting
	// those whose budget is whole again first and then those closest to
	// it. Zero value: 10. Negative: no throttling.
	FailureLimit int
	// FailureWindow is the time in which a client_id regains one spent
	// attempt (a token bucket: after FailureLimit failures, one more
	// attempt each FailureWindow, and the whole budget after FailureLimit
	// windows without failure). Zero value: one second.
	FailureWindow time.Duration
	// StoreTimeout bounds each call to Clients and to Replay; a call that
	// fails or has not answered by then is answered 503
	// temporarily_unavailable with Retry-After (the handler returns at the
	// deadline even if the store ignores its context; the call may finish
	// in the background). Zero value: DefaultStoreTimeout (5 s).
	StoreTimeout time.Duration
	// HTTPClient fetches the JWK Sets of clients registered with a
	// JWKSURL. Zero value: a client with a 10 s timeout that follows at
	// most three redirects, to https URLs only.
	HTTPClient *http.Client
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// DefaultAssertionAlgorithms returns the algorithms accepted for client
// assertions when ClientAuthConfig.AssertionAlgorithms is empty: RS384 and
// ES384 (required by SMART), and RS256, RS512, PS256, PS384, PS512, ES256,
// ES512.
func DefaultAssertionAlgorithms() []string {
	return []string{"RS384", "ES384", "RS256", "RS512", "PS256", "PS384", "PS512", "ES256", "ES512"}
}

// supportedAssertionAlgorithms are the algorithms ClientAuthConfig may name.
var supportedAssertionAlgorithms = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
}

// ClientAuthenticator authenticates the client of a token, introspection
// or revocation request (RFC 6749 §2.3) with one of the methods of
// AuthMethod. It is safe for concurrent use.
type ClientAuthenticator struct {
	clients       ClientStore
	tokenEndpoint string
	replay        ReplayGuard
	algs          []string
	maxLifetime   time.Duration
	leeway        time.Duration
	now           func() time.Time
	storeTimeout  time.Duration
	parser        *jwt.Parser
	dummyHash     string // checked for unknown clients, like a real one
	throttle      *failureThrottle
	inlineKeys    *clientKeySetCache
	remoteKeys    *clientJWKSCache
}

// NewClientAuthenticator returns a ClientAuthenticator for cfg.
func NewClientAuthenticator(cfg ClientAuthConfig) (*ClientAuthenticator, error) {
	if cfg.Clients == nil {
		return nil, errors.New("authserver: ClientAuthConfig.Clients is required")
	}
	if cfg.Replay == nil {
		return nil, errors.New("authserver: ClientAuthConfig.Replay is required")
	}
	if u, err := url.Parse(cfg.TokenEndpoint); err != nil || !u.IsAbs() || u.Host == "" {
		return nil, errors.New("authserver: ClientAuthConfig.TokenEndpoint must be an absolute URL")
	}
	requested := cfg.AssertionAlgorithms
	if len(requested) == 0 {
		requested = DefaultAssertionAlgorithms()
	}
	var algs []string
	for _, alg := range requested {
		if !slices.Contains(supportedAssertionAlgorithms, alg) {
			return nil, fmt.Errorf("authserver: unsupported client assertion algorithm %q", alg)
		}
		if !slices.Contains(algs, alg) {
			algs = append(algs, alg)
		}
	}
	maxLifetime := cfg.MaxAssertionLifetime
	if maxLifetime == 0 {
		maxLifetime = DefaultMaxAssertionLifetime
	}
	if maxLifetime < 0 {
		return nil, errors.New("authserver: ClientAuthConfig.MaxAssertionLifetime is negative")
	}
	if cfg.Leeway < 0 || cfg.Leeway > maxAssertionLeeway {
		return nil, errors.New("authserver: ClientAuthConfig.Leeway must be between 0 and 1 minute")
	}
	if cfg.FailureWindow < 0 || cfg.StoreTimeout < 0 {
		return nil, errors.New("authserver: ClientAuthConfig.FailureWindow and StoreTimeout must not be negative")
	}
	failureLimit := cfg.FailureLimit
	if failureLimit == 0 {
		failureLimit = DefaultFailureLimit
	}
	failureWindow := cfg.FailureWindow
	if failureWindow == 0 {
		failureWindow = DefaultFailureWindow
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = defaultJWKSHTTPClient()
	}
	return &ClientAuthenticator{
		clients:       cfg.Clients,
		tokenEndpoint: cfg.TokenEndpoint,
		replay:        cfg.Replay,
		algs:          algs,
		maxLifetime:   maxLifetime,
		leeway:        cfg.Leeway,
		now:           now,
		storeTimeout:  storeTimeout(cfg.StoreTimeout),
		parser: jwt.NewParser(
			jwt.WithValidMethods(algs),
			jwt.WithExpirationRequired(),
			jwt.WithAudience(cfg.TokenEndpoint),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.Leeway),
			jwt.WithTimeFunc(now),
		),
		dummyHash:  HashSecret("authserver: no such client"),
		throttle:   newFailureThrottle(failureLimit, failureWindow, maxThrottledClients),
		inlineKeys: newClientKeySetCache(),
		remoteKeys: newClientJWKSCache(httpClient, now),
	}, nil
}

// AssertionAlgorithms returns the accepted client assertion algorithms, for
// token_endpoint_auth_signing_alg_values_supported.
func (a *ClientAuthenticator) AssertionAlgorithms() []string { return slices.Clone(a.algs) }

// Authenticate identifies and authenticates the client of a
// token-endpoint-style request r whose form (parsed by the caller from the
// application/x-www-form-urlencoded body, duplicate parameters rejected) is
// form. It returns the authenticated client, or an *Error.
//
// The method used is the one present in the request: HTTP Basic
// (client_secret_basic), client_id and client_secret in the form
// (client_secret_post), client_assertion_type and client_assertion
// (private_key_jwt), or client_id alone (a public client). It must be the
// method the client is registered with, with one exception: a client
// registered with a secret (client_secret_basic or client_secret_post) may
// always send it with HTTP Basic, which RFC 6749 §2.3.1 requires servers to
// support for clients issued a password; the secret in the body is
// accepted from client_secret_post clients only. Parameters with empty
// values are treated as absent (RFC 6749 §3.1).
//
// Basic credentials are decoded as RFC 6749 §2.3.1 says (base64, split at
// the first colon, then form-decoding of each part); a part that is not
// valid form encoding is taken as sent. A secret is hashed once per
// attempt, and an unknown client costs what a registered one with the
// default hash (HashSecret) and a wrong secret costs. Failed secret
// attempts are throttled per client_id (FailureLimit).
//
// A client assertion (RFC 7523, SMART client-confidential-asymmetric) must
// have an accepted alg, a kid, iss = sub = the client_id (and the client_id
// parameter, if sent), aud equal to or containing TokenEndpoint, exp no more
// than MaxAssertionLifetime ahead and a jti not used before by that client
// (Replay; the key recorded is "jti:" + base64url(client_id) + ":" + jti,
// unambiguous whatever the client_id holds). Its key is the one registered key (Client.JWKS, then the set at
// Client.JWKSURL) with that kid whose type fits alg; a jku header must equal
// Client.JWKSURL; embedded jwk, x5c and x5u headers are ignored. Fetched
// key sets (https only, at most 128 KiB) are cached as their Cache-Control
// says (15 minutes without max-age, 24 hours at most) and refetched, at
// most once a minute, for an unknown kid.
//
// Errors:
//   - 400 invalid_request: more than one method in the request, more than
//     one Authorization header, a parameter repeated in form, or
//     client_assertion without client_assertion_type (or the reverse);
//   - 401 invalid_client: anything else that does not authenticate a
//     client: no client_id and no credentials, unknown client, wrong
//     secret, a method other than the registered one, a confidential
//     client without credentials, a malformed Authorization header, an
//     invalid or replayed assertion. BasicChallenge is set if the request
//     had an Authorization header. The description is always "client
//     authentication failed"; Err tells the reason (for logs, never a
//     credential or claim value);
//   - 429 invalid_client, with Retry-After: the client_id has spent its
//     failed secret attempts (FailureLimit); nothing was checked;
//   - 503 temporarily_unavailable, with Retry-After: the ClientStore or
//     the ReplayGuard failed or did not answer within StoreTimeout (a
//     ReplayGuard error other than tokenstore.ErrReplayed never becomes
//     invalid_client);
//   - 500 server_error: a registered client's SecretHash is invalid, or
//     the ClientStore returned another client than the one asked for.
func (a *ClientAuthenticator) Authenticate(ctx context.Context, r *http.Request, form url.Values) (*Client, error) {
	for _, p := range [...]string{"client_id", "client_secret", "client_assertion", "client_assertion_type"} {
		if len(form[p]) > 1 {
			return nil, invalidRequestError("repeated client authentication parameter")
		}
	}
	var authz []string
	if r != nil {
		authz = r.Header.Values("Authorization")
	}
	if len(authz) > 1 {
		return nil, invalidRequestError("repeated Authorization header")
	}
	clientID := form.Get("client_id")
	secret := form.Get("client_secret")
	assertion, assertionType := form.Get("client_assertion"), form.Get("client_assertion_type")
	hasBasic, hasSecret, hasAssertion := len(authz) == 1, secret != "", assertion != "" || assertionType != ""
	if countMethods(hasBasic, hasSecret, hasAssertion) > 1 {
		return nil, invalidRequestError("more than one client authentication method")
	}
	switch {
	case hasBasic:
		return a.authenticateBasic(ctx, authz[0], clientID)
	case hasSecret:
		return a.authenticatePost(ctx, clientID, secret)
	case hasAssertion:
		return a.authenticateAssertion(ctx, clientID, assertionType, assertion)
	default:
		return a.authenticatePublic(ctx, clientID)
	}
}

// authenticatePublic authenticates a request with a client_id only.
func (a *ClientAuthenticator) authenticatePublic(ctx context.Context, clientID string) (*Client, error) {
	if clientID == "" {
		return nil, clientAuthFailed(false, errNoClientCredentials)
	}
	c, err := a.lookupClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	switch {
	case c == nil:
		return nil, clientAuthFailed(false, ErrUnknownClient)
	case c.AuthMethod != AuthNone:
		return nil, clientAuthFailed(false, errNoClientCredentials)
	}
	return c, nil
}

// lookupClient returns the client with the given ID, nil if there is none,
// or a server_error *Error if the store failed.
func (a *ClientAuthenticator) lookupClient(ctx context.Context, id string) (*Client, error) {
	c, err := callWithDeadline(ctx, a.storeTimeout, func(ctx context.Context) (*Client, error) {
		return a.clients.Client(ctx, id)
	})
	switch {
	case errors.Is(err, ErrUnknownClient):
		return nil, nil
	case err != nil:
		return nil, clientStoreError(fmt.Errorf("authserver: client store: %w", err))
	case c == nil || c.ID != id:
		return nil, clientServerError(errors.New("authserver: client store returned no client or another one"))
	}
	return c, nil
}

// useOnce records the jti of client clientID's assertion with the replay
// guard, under the StoreTimeout deadline. The key is unambiguous: the
// client_id is base64url-encoded, so it cannot hold the separator.
func (a *ClientAuthenticator) useOnce(ctx context.Context, clientID, jti string, expiresAt, now time.Time) error {
	key := "jti:" + base64.RawURLEncoding.EncodeToString([]byte(clientID)) + ":" + jti
	_, err := callWithDeadline(ctx, a.storeTimeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, a.replay.UseOnce(ctx, key, expiresAt, now)
	})
	return err
}

// Reasons of invalid_client errors, in Error.Err.
var (
	errNoClientCredentials = errors.New("authserver: no client credentials")
	errWrongClientMethod   = errors.New("authserver: client used an authentication method it is not registered for")
	errWrongClientSecret   = errors.New("authserver: wrong client secret")
	errMalformedBasic      = errors.New("authserver: malformed Basic authorization")
	errClientIDMismatch    = errors.New("authserver: client_id does not match the authenticated client")
	errClientThrottled     = errors.New("authserver: too many failed attempts for this client_id")
)

// clientAuthFailed returns the 401 invalid_client error.
func clientAuthFailed(basic bool, cause error) *Error {
	return &Error{
		Status:         http.StatusUnauthorized,
		Code:           CodeInvalidClient,
		Description:    "client authentication failed",
		BasicChallenge: basic,
		Err:            cause,
	}
}

// invalidRequestError returns a 400 invalid_request error with a fixed
// description.
func invalidRequestError(description string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: description}
}

// clientThrottled returns the 429 answer to an attempt for a client_id
// whose failed attempts are spent. Its description is the same for every
// client_id.
func clientThrottled(retryAfter time.Duration) *Error {
	return &Error{
		Status:      http.StatusTooManyRequests,
		Code:        CodeInvalidClient,
		Description: "too many failed client authentication attempts; retry later",
		RetryAfter:  retryAfter,
		Err:         errClientThrottled,
	}
}

// clientStoreError returns the 503 temporarily_unavailable answer to a
// failure (or a timeout) of the client store or the replay guard.
func clientStoreError(cause error) *Error {
	return errUnavailable("client authentication is temporarily unavailable", cause)
}

// clientServerError returns the 500 server_error for a fault of the
// server's own data: an invalid registration, a client store that
// misbehaves.
func clientServerError(cause error) *Error {
	return &Error{
		Status:      http.StatusInternalServerError,
		Code:        CodeServerError,
		Description: "the authorization server could not authenticate the client",
		Err:         cause,
	}
}

func countMethods(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
