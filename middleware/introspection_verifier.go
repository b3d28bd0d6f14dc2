package middleware

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/smartauth/smartauth/middleware/internal/tokencache"
)

// Defaults of IntrospectionVerifierConfig.
const (
	// DefaultIntrospectionMaxTTL is how long an active introspection
	// result is reused at most when IntrospectionVerifierConfig.MaxTTL is zero.
	DefaultIntrospectionMaxTTL = 5 * time.Minute
	// DefaultIntrospectionMaxResponseSize caps the introspection response
	// body when IntrospectionVerifierConfig.MaxResponseSize is zero: 64 KiB.
	DefaultIntrospectionMaxResponseSize = 64 << 10

	defaultIntrospectionTimeout = 10 * time.Second
)

// IntrospectionVerifierConfig configures NewIntrospectionVerifier. Endpoint is
// required; every other field has a documented zero value.
type IntrospectionVerifierConfig struct {
	// Endpoint is the authorization server's RFC 7662 introspection
	// endpoint. It must be an https URL; http is accepted only for
	// loopback hosts (tests, sidecars).
	Endpoint string

	// How the verifier authenticates to the endpoint: at most one of
	// ClientID and ClientSecret (HTTP Basic, each form-urlencoded first
	// as RFC 6749 §2.3.1 requires), BearerToken (Authorization: Bearer),
	// or Authorize (called on every request before it is sent, e.g. to
	// add a client assertion). Zero value: no credentials, for endpoints
	// protected otherwise (mutual TLS configured in HTTPClient).
	ClientID     string
	ClientSecret string
	BearerToken  string
	Authorize    func(*http.Request) error

	// HTTPClient sends the requests. Zero value: a client with a 10s
	// timeout.
	HTTPClient *http.Client

	// Issuers, if not empty, are the trusted issuers: a response whose iss
	// member is present and is none of them is refused (ErrBadIssuer). A
	// response without iss is accepted. Zero value: iss not checked.
	Issuers []string
	// Audience, if set, is this server's FHIR base URL: a response whose
	// aud member is present and does not contain it is refused
	// (ErrBadAudience). Zero value: aud not checked.
	Audience string

	// ClaimNames maps the SMART context to response member names. Zero
	// value: DefaultClaimNames.
	ClaimNames ClaimNames

	// MaxTTL bounds how long an active result is reused: until the
	// token's exp or MaxTTL after the introspection, whichever is first
	// (so a revoked token stays accepted at most MaxTTL). Zero value:
	// DefaultIntrospectionMaxTTL (5 minutes).
	MaxTTL time.Duration
	// CacheSize is the maximum number of active results kept. Zero value:
	// 10000. Negative disables the cache: every request is introspected.
	CacheSize int
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
	// MaxResponseSize caps the response body in bytes; a larger response
	// is treated as a failure of the endpoint. Zero value:
	// DefaultIntrospectionMaxResponseSize (64 KiB).
	MaxResponseSize int64
	// MaxTokenSize caps the token length in bytes; longer tokens are
	// refused without being sent. Zero value: DefaultMaxTokenSize (8192).
	MaxTokenSize int
	// TokenTypeHint is sent as token_type_hint. Zero value:
	// "access_token". "-" sends none.
	TokenTypeHint string
}

// IntrospectionVerifier is a TokenVerifier for opaque access tokens: it asks
// the authorization server's RFC 7662 introspection endpoint about each
// token and caches active results.
//
// Its errors: ErrTokenTooLarge and ErrMalformedToken (empty token) before
// any request; ErrInactiveToken for active:false; ErrBadType for a
// response whose token_type says the token is not a bearer access token
// (refresh_token, DPoP); ErrTokenExpired and ErrTokenNotYetValid from exp
// and nbf; ErrBadIssuer, ErrBadAudience; ErrBadLaunchContext for malformed
// members; and ErrVerifierUnavailable (503, never "invalid token") when the
// endpoint cannot be reached, answers with a status other than 200, or
// answers something that is not an introspection response. Errors and
// inactive results are never cached.
//
// An IntrospectionVerifier is safe for concurrent use.
type IntrospectionVerifier struct {
	endpoint     string
	client       *http.Client
	authorize    func(*http.Request) error
	issuers      []string
	audience     string
	names        ClaimNames
	maxTTL       time.Duration
	now          func() time.Time
	maxResponse  int64
	maxTokenSize int
	hint         string
	cache        *tokencache.Cache[*LaunchContext] // nil: disabled
}

var _ TokenVerifier = (*IntrospectionVerifier)(nil)

// Errors of the introspection verifier. None contains request or response
// data.
var (
	errIntroTokenTooLarge = fmt.Errorf("%w: token longer than MaxTokenSize", ErrTokenTooLarge)
	errIntroEmptyToken    = fmt.Errorf("%w: empty token", ErrMalformedToken)
	errIntroInactive      = fmt.Errorf("%w: introspection says active:false", ErrInactiveToken)
	errIntroTokenType     = fmt.Errorf("%w: introspected token is not a bearer access token", ErrBadType)
	errIntroExpired       = fmt.Errorf("%w: introspected token exp is in the past", ErrTokenExpired)
	errIntroNotYetValid   = fmt.Errorf("%w: introspected token nbf is in the future", ErrTokenNotYetValid)
	errIntroBadIssuer     = fmt.Errorf("%w: introspected iss is not a trusted issuer", ErrBadIssuer)
	errIntroBadAudience   = fmt.Errorf("%w: introspected aud does not contain this server", ErrBadAudience)
	errIntroTooLarge      = fmt.Errorf("%w: introspection response larger than MaxResponseSize", ErrVerifierUnavailable)
	errIntroMalformed     = fmt.Errorf("%w: introspection response is not a JSON object", ErrVerifierUnavailable)
	errIntroNoActive      = fmt.Errorf("%w: introspection response has no boolean active member", ErrVerifierUnavailable)
)

// NewIntrospectionVerifier returns a verifier that introspects tokens at
// cfg.Endpoint. It returns an error for an unusable configuration: no or a
// malformed Endpoint, a plain http Endpoint on a non-loopback host, more
// than one client authentication method, a ClientSecret without ClientID
// (or the reverse), or a negative duration or size.
func NewIntrospectionVerifier(cfg IntrospectionVerifierConfig) (*IntrospectionVerifier, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, errors.New("smartauth: introspection verifier: Endpoint is not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, errors.New("smartauth: introspection verifier: Endpoint must be an https URL")
	}
	if cfg.MaxTTL < 0 || cfg.MaxResponseSize < 0 || cfg.MaxTokenSize < 0 {
		return nil, errors.New("smartauth: introspection verifier: MaxTTL, MaxResponseSize and MaxTokenSize must not be negative")
	}

	v := &IntrospectionVerifier{
		endpoint:     cfg.Endpoint,
		client:       cfg.HTTPClient,
		issuers:      slices.Clone(cfg.Issuers),
		audience:     cfg.Audience,
		names:        cfg.ClaimNames.withDefaults(),
		maxTTL:       cfg.MaxTTL,
		now:          cfg.Now,
		maxResponse:  cfg.MaxResponseSize,
		maxTokenSize: cfg.MaxTokenSize,
		hint:         cfg.TokenTypeHint,
	}
	if v.authorize, err = introspectionAuthorizer(cfg); err != nil {
		return nil, err
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: defaultIntrospectionTimeout}
	}
	if v.maxTTL == 0 {
		v.maxTTL = DefaultIntrospectionMaxTTL
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.maxResponse == 0 {
		v.maxResponse = DefaultIntrospectionMaxResponseSize
	}
	if v.maxTokenSize == 0 {
		v.maxTokenSize = DefaultMaxTokenSize
	}
	switch v.hint {
	case "":
		v.hint = "access_token"
	case "-":
		v.hint = ""
	}
	switch {
	case cfg.CacheSize == 0:
		v.cache = tokencache.New[*LaunchContext](defaultCacheSize)
	case cfg.CacheSize > 0:
		v.cache = tokencache.New[*LaunchContext](cfg.CacheSize)
	}
	return v, nil
}

// introspectionAuthorizer returns the function that adds the client's
// credentials to an introspection request, or nil for none.
func introspectionAuthorizer(cfg IntrospectionVerifierConfig) (func(*http.Request) error, error) {
	basic := cfg.ClientID != "" || cfg.ClientSecret != ""
	n := 0
	for _, set := range []bool{basic, cfg.BearerToken != "", cfg.Authorize != nil} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return nil, errors.New("smartauth: introspection verifier: set only one of ClientID/ClientSecret, BearerToken and Authorize")
	case basic && (cfg.ClientID == "" || cfg.ClientSecret == ""):
		return nil, errors.New("smartauth: introspection verifier: ClientID and ClientSecret go together")
	case basic:
		user, pass := url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret)
		return func(r *http.Request) error {
			r.SetBasicAuth(user, pass)
			return nil
		}, nil
	case cfg.BearerToken != "":
		value := "Bearer " + cfg.BearerToken
		return func(r *http.Request) error {
			r.Header.Set("Authorization", value)
			return nil
		}, nil
	}
	return cfg.Authorize, nil
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// VerifyToken introspects token (or reuses a cached active result) and
// returns the LaunchContext made of the response members. The result may
// be shared with other calls and must not be modified.
func (v *IntrospectionVerifier) VerifyToken(ctx context.Context, token string) (*LaunchContext, error) {
	if len(token) > v.maxTokenSize {
		return nil, errIntroTokenTooLarge
	}
	if token == "" {
		return nil, errIntroEmptyToken
	}
	// The cache is keyed by the token's SHA-256 so that it holds no
	// usable token.
	var key string
	if v.cache != nil {
		sum := sha256.Sum256([]byte(token))
		key = string(sum[:])
		if lc, ok := v.cache.Get(key, v.now()); ok {
			return lc, nil
		}
	}
	members, err := v.introspect(ctx, token)
	if err != nil {
		return nil, err
	}
	now := v.now()
	lc, err := v.launchContext(members, now)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		expires := now.Add(v.maxTTL)
		if !lc.ExpiresAt.IsZero() && lc.ExpiresAt.Before(expires) {
			expires = lc.ExpiresAt
		}
		v.cache.Put(key, lc, expires)
	}
	return lc, nil
}

// introspect sends the RFC 7662 request and returns the members of an
// active response.
func (v *IntrospectionVerifier) introspect(ctx context.Context, token string) (map[string]any, error) {
	form := url.Values{"token": {token}}
	if v.hint != "" {
		form.Set("token_type_hint", v.hint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: introspection request: %w", ErrVerifierUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if v.authorize != nil {
		if err := v.authorize(req); err != nil {
			return nil, fmt.Errorf("%w: introspection request authorization: %w", ErrVerifierUnavailable, err)
		}
	}

	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection request: %w", ErrVerifierUnavailable, err)
	}
	defer func() {
		// Drain a little so that the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: introspection endpoint answered status %d", ErrVerifierUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, v.maxResponse+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: reading introspection response: %w", ErrVerifierUnavailable, err)
	case int64(len(body)) > v.maxResponse:
		return nil, errIntroTooLarge
	}
	return parseIntrospectionResponse(body)
}

// parseIntrospectionResponse decodes an RFC 7662 §2.2 response: one JSON
// object with a boolean active member. It returns the members if active is
// true, errIntroInactive if it is false.
func parseIntrospectionResponse(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var members map[string]any
	if err := dec.Decode(&members); err != nil || members == nil {
		return nil, errIntroMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errIntroMalformed // trailing data
	}
	active, ok := members["active"].(bool)
	switch {
	case !ok:
		return nil, errIntroNoActive
	case !active:
		return nil, errIntroInactive
	}
	return members, nil
}

// launchContext checks the members of an active response and converts
// them.
func (v *IntrospectionVerifier) launchContext(members map[string]any, now time.Time) (*LaunchContext, error) {
	if tt, ok := members["token_type"].(string); ok {
		switch strings.ToLower(tt) {
		case "refresh_token", "dpop":
			return nil, errIntroTokenType
		}
	}
	lc, err := NewLaunchContext(members, v.names)
	if err != nil {
		return nil, err
	}
	if !lc.ExpiresAt.IsZero() && !now.Before(lc.ExpiresAt) {
		return nil, errIntroExpired
	}
	nbf, err := numericDateClaim(members["nbf"], "nbf")
	if err != nil {
		return nil, err
	}
	if !nbf.IsZero() && now.Before(nbf) {
		return nil, errIntroNotYetValid
	}
	if len(v.issuers) > 0 && lc.Issuer != "" && !slices.Contains(v.issuers, lc.Issuer) {
		return nil, errIntroBadIssuer
	}
	if v.audience != "" && len(lc.Audience) > 0 && !slices.Contains(lc.Audience, v.audience) {
		return nil, errIntroBadAudience
	}
	return lc, nil
}
