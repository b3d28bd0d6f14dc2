package middleware

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/smartauth/smartauth/middleware/internal/tokencache"
)

// Defaults of JWTConfig.
const (
	defaultCacheSize           = 10000
	defaultMaxTokenSize        = 8192
	defaultJWKSRefreshInterval = time.Hour
	defaultUnknownKIDInterval  = 5 * time.Minute
	maxLeeway                  = 60 * time.Second
)

// isRegisteredHeader reports whether name is a JOSE header parameter
// defined by RFC 7515, or b64 (RFC 7797, which golang-jwt does not
// implement). crit must not list them, so UnderstoodCritical may not either.
func isRegisteredHeader(name string) bool {
	switch name {
	case "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "b64":
		return true
	}
	return false
}

// JWTVerifier verifies JWT access tokens (RFC 9068 style) signed by a
// trusted authorization server and turns their claims into a LaunchContext.
// It implements TokenVerifier; create it with NewJWTVerifier. It is safe for
// concurrent use.
//
// A token is accepted only if all of these hold:
//   - it is at most MaxTokenSize bytes (checked before any decoding);
//   - its alg is in the allow-list (never "none"; HMAC only if listed);
//   - its crit header lists only UnderstoodCritical parameters, and its typ
//     is RequireType if that is set;
//   - the key is found by kid, static keys first, then the JWK Sets (jwk,
//     jku, x5u and x5c headers are ignored, never fetched), and the key's
//     type fits the alg (RSA for RS/PS, EC on the alg's curve for ES,
//     Ed25519 for EdDSA, a static []byte secret for HS);
//   - the signature verifies;
//   - exp is present and not past, nbf and iat are not in the future (each
//     with Leeway);
//   - iss equals one of Issuers exactly, and aud contains the audience;
//   - the SMART claims are well-formed (see LaunchContext).
//
// A verified token is cached until its exp (plus Leeway), keyed by the
// whole token; a repeated token then costs a map lookup. Cached results are
// dropped whenever a JWK Set is refreshed, so a key removed from the JWK Set
// stops being accepted for cached tokens too.
type JWTVerifier struct {
	parser       *jwt.Parser
	algorithms   []string
	static       map[string]any // kid → key; "" for tokens without kid
	jwks         *jwksSource    // nil without JWKSURLs
	issuers      []string
	audience     string
	audienceFunc func(context.Context) (string, error)
	leeway       time.Duration
	now          func() time.Time
	requireType  string // lower case, without "application/"
	critical     []string
	names        ClaimNames
	maxTokenSize int
	cache        *tokencache.Cache[cachedToken] // nil: disabled
}

// cachedToken is what the cache keeps for a verified token.
type cachedToken struct {
	lc *LaunchContext // its Audience is rechecked when AudienceFunc is set
	// generation is the JWK Set generation the token was verified under.
	generation uint64
}

// NewJWTVerifier returns a verifier for cfg. It fetches the JWK Sets once
// (a failed fetch is logged and retried, not an error: tokens are rejected
// with ErrUnknownKey until the keys arrive) and starts one refresh
// goroutine per JWK Set URL, which runs until ctx ends.
//
// It returns an error for an unusable configuration: no Issuers, no
// audience (Audience or AudienceFunc), no key source (JWKSURLs or
// StaticKeys), Leeway outside [0, 60s], an algorithm that is unknown or
// "none", a static key that fits none of the allowed algorithms (an HMAC
// []byte key needs an HS* algorithm), a registered header name in
// UnderstoodCritical, or a negative size or duration.
func NewJWTVerifier(ctx context.Context, cfg JWTConfig) (*JWTVerifier, error) {
	v := &JWTVerifier{
		audience:     cfg.Audience,
		audienceFunc: cfg.AudienceFunc,
		leeway:       cfg.Leeway,
		now:          cfg.Now,
		names:        cfg.ClaimNames.withDefaults(),
		maxTokenSize: cfg.MaxTokenSize,
	}
	if len(cfg.Issuers) == 0 {
		return nil, errors.New("smartauth: jwt verifier: no Issuers")
	}
	for _, iss := range cfg.Issuers {
		if iss == "" {
			return nil, errors.New("smartauth: jwt verifier: empty issuer in Issuers")
		}
	}
	v.issuers = slices.Clone(cfg.Issuers)
	if cfg.Audience == "" && cfg.AudienceFunc == nil {
		return nil, errors.New("smartauth: jwt verifier: neither Audience nor AudienceFunc is set")
	}
	if len(cfg.JWKSURLs) == 0 && len(cfg.StaticKeys) == 0 {
		return nil, errors.New("smartauth: jwt verifier: no keys: set JWKSURLs or StaticKeys")
	}
	if cfg.Leeway < 0 || cfg.Leeway > maxLeeway {
		return nil, fmt.Errorf("smartauth: jwt verifier: Leeway %v is outside [0, %v]", cfg.Leeway, maxLeeway)
	}
	if v.now == nil {
		v.now = time.Now
	}
	if cfg.MaxTokenSize < 0 || cfg.JWKSRefreshInterval < 0 || cfg.UnknownKIDWait < 0 {
		return nil, errors.New("smartauth: jwt verifier: MaxTokenSize, JWKSRefreshInterval and UnknownKIDWait must not be negative")
	}
	if v.maxTokenSize == 0 {
		v.maxTokenSize = defaultMaxTokenSize
	}

	v.algorithms = slices.Clone(cfg.Algorithms)
	if len(v.algorithms) == 0 {
		v.algorithms = defaultAlgorithms()
	}
	for _, alg := range v.algorithms {
		if strings.EqualFold(alg, "none") {
			return nil, errors.New(`smartauth: jwt verifier: alg "none" is never accepted`)
		}
		if _, ok := lookupAlg(alg); !ok {
			return nil, fmt.Errorf("smartauth: jwt verifier: unsupported algorithm %q", alg)
		}
	}
	var err error
	if v.static, err = checkStaticKeys(cfg.StaticKeys, v.algorithms); err != nil {
		return nil, err
	}

	if cfg.RequireType != "" {
		v.requireType = strings.ToLower(trimMediaTypePrefix(cfg.RequireType))
		if v.requireType == "" {
			return nil, errors.New("smartauth: jwt verifier: empty RequireType")
		}
	}
	for _, name := range cfg.UnderstoodCritical {
		if name == "" || isRegisteredHeader(name) {
			return nil, fmt.Errorf("smartauth: jwt verifier: %q cannot be in UnderstoodCritical", name)
		}
	}
	v.critical = slices.Clone(cfg.UnderstoodCritical)

	// Built once: the verifier checks iss and aud itself (several issuers,
	// per-request audiences).
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(v.algorithms),
		jwt.WithTimeFunc(v.now),
		jwt.WithLeeway(v.leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)

	switch {
	case cfg.CacheSize == 0:
		v.cache = tokencache.New[cachedToken](defaultCacheSize)
	case cfg.CacheSize > 0:
		v.cache = tokencache.New[cachedToken](cfg.CacheSize)
	}

	if len(cfg.JWKSURLs) > 0 {
		o := jwksOptions{
			urls:            cfg.JWKSURLs,
			client:          cfg.HTTPClient,
			refreshInterval: cfg.JWKSRefreshInterval,
			unknownKIDLimit: cfg.UnknownKIDRateLimit,
			unknownKIDWait:  cfg.UnknownKIDWait,
		}
		if o.refreshInterval == 0 {
			o.refreshInterval = defaultJWKSRefreshInterval
		}
		if o.unknownKIDLimit == 0 {
			o.unknownKIDLimit = rate.Every(defaultUnknownKIDInterval)
		}
		if v.jwks, err = newJWKSSource(ctx, o); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// VerifyToken verifies token and returns the LaunchContext it grants. The
// result may be shared with other calls and must not be modified. Errors
// wrap one of the package's sentinels (ErrTokenTooLarge, ErrMalformedToken,
// ErrAlgorithmNotAllowed, ErrUnknownKey, ErrBadSignature, ErrBadType,
// ErrUnsupportedCritical, ErrTokenExpired, ErrTokenNotYetValid,
// ErrBadIssuer, ErrBadAudience, ErrBadLaunchContext) and never contain the
// token or any value from it.
func (v *JWTVerifier) VerifyToken(ctx context.Context, token string) (*LaunchContext, error) {
	if len(token) > v.maxTokenSize {
		return nil, errTokenTooLarge
	}
	if token == "" {
		return nil, errEmptyToken
	}
	generation := v.generation()
	if v.cache != nil {
		// Entries expire at exp + Leeway: the exp check of the parser.
		if c, ok := v.cache.Get(token, v.now()); ok && c.generation == generation {
			if v.audienceFunc != nil {
				if err := v.checkAudienceList(ctx, c.lc.Audience); err != nil {
					return nil, err
				}
			}
			return c.lc, nil
		}
	}

	claims := jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		return v.key(ctx, t)
	})
	if err != nil {
		return nil, mapParseError(tok, err, v.allowed)
	}
	if iss, _ := claims["iss"].(string); !slices.Contains(v.issuers, iss) {
		return nil, errBadIssuer
	}
	want, err := v.expectedAudience(ctx)
	if err != nil {
		return nil, err
	}
	if !audienceContains(claims["aud"], want) {
		return nil, errBadAudience
	}
	lc, err := launchContextFromClaims(claims, v.names)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.Put(token, cachedToken{lc: lc, generation: generation}, lc.ExpiresAt.Add(v.leeway))
	}
	return lc, nil
}

// generation returns the current JWK Set generation (0 without JWK Sets).
func (v *JWTVerifier) generation() uint64 {
	if v.jwks == nil {
		return 0
	}
	return v.jwks.generation.Load()
}

func (v *JWTVerifier) allowed(alg string) bool {
	return slices.Contains(v.algorithms, alg)
}

// key is the jwt.Keyfunc: it checks the header (typ, crit, kid) and returns
// the verification key for the token's kid and alg. The parser has already
// checked alg against the allow-list.
func (v *JWTVerifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	if err := v.checkHeader(t.Header); err != nil {
		return nil, err
	}
	spec, ok := lookupAlg(t.Method.Alg())
	if !ok {
		return nil, errAlgNotAllowed
	}
	kid := ""
	if raw, ok := t.Header["kid"]; ok {
		if kid, ok = raw.(string); !ok {
			return nil, errKidNotString
		}
	}
	if key, ok := v.static[kid]; ok {
		if !keyFits(spec, key) {
			return nil, errKeyAlgMismatch
		}
		return key, nil
	}
	// HMAC secrets are only ever static: a JWK Set is public.
	if v.jwks == nil || spec.family == familyHMAC {
		return nil, errUnknownKey
	}
	got, err := v.jwks.keyfunc.KeyfuncCtx(ctx)(t)
	if err != nil {
		if errors.Is(err, jwkset.ErrKeyNotFound) {
			return nil, errUnknownKey
		}
		return nil, errKeyAlgMismatch // the JWK's alg differs from the token's
	}
	if set, ok := got.(jwt.VerificationKeySet); ok { // token without kid: try every fitting key
		fitting := set.Keys[:0]
		for _, k := range set.Keys {
			if keyFits(spec, k) {
				fitting = append(fitting, k)
			}
		}
		if len(fitting) == 0 {
			return nil, errUnknownKey
		}
		return jwt.VerificationKeySet{Keys: fitting}, nil
	}
	if !keyFits(spec, got) {
		return nil, errKeyAlgMismatch
	}
	return got, nil
}

// checkHeader enforces RequireType and crit (RFC 7515 §4.1.11).
func (v *JWTVerifier) checkHeader(h map[string]any) error {
	if v.requireType != "" {
		typ, _ := h["typ"].(string)
		if !strings.EqualFold(trimMediaTypePrefix(typ), v.requireType) {
			return errBadType
		}
	}
	raw, ok := h["crit"]
	if !ok {
		return nil
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return errCritMalformed
	}
	for _, e := range list {
		name, ok := e.(string)
		if !ok || name == "" {
			return errCritMalformed
		}
		if !slices.Contains(v.critical, name) {
			return errCritUnsupported
		}
		if _, present := h[name]; !present {
			return errCritMalformed
		}
	}
	return nil
}

// trimMediaTypePrefix removes a leading "application/" (any case): RFC 7515
// §4.1.9 lets typ omit it.
func trimMediaTypePrefix(typ string) string {
	const prefix = "application/"
	if len(typ) > len(prefix) && strings.EqualFold(typ[:len(prefix)], prefix) {
		return typ[len(prefix):]
	}
	return typ
}

// expectedAudience returns the audience the token must contain.
func (v *JWTVerifier) expectedAudience(ctx context.Context) (string, error) {
	if v.audienceFunc == nil {
		return v.audience, nil
	}
	aud, err := v.audienceFunc(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: AudienceFunc: %w", ErrBadAudience, err)
	}
	if aud == "" {
		return "", errEmptyAudienceValue
	}
	return aud, nil
}

// checkAudienceList checks a cached token's audience against AudienceFunc.
func (v *JWTVerifier) checkAudienceList(ctx context.Context, aud []string) error {
	want, err := v.expectedAudience(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(aud, want) {
		return errBadAudience
	}
	return nil
}

// audienceContains reports whether the aud claim (a string or an array of
// strings) contains want.
func audienceContains(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, e := range a {
			if s, ok := e.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}
