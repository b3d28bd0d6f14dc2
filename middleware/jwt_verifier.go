package middleware

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smartauth/smartauth/middleware/internal/jsonobject"
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
// defined by RFC 7515, or b64 (RFC 7797, which the verifier does not
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
// A token is accepted only if all of these hold, checked in this order:
//   - it is at most MaxTokenSize bytes (checked before any decoding);
//   - it is a JWS compact serialization: three base64url parts without
//     padding, the header a JSON object;
//   - its alg is in the allow-list (never "none"; HMAC only if listed);
//   - its crit header lists only UnderstoodCritical parameters, present in
//     the header, and its typ is RequireType if that is set;
//   - the key is found by kid, static keys and HMAC secrets first, then
//     the JWK Sets (jwk, jku, x5u and x5c headers are ignored, never
//     fetched), and the key's type fits the alg (RSA of 2048 bits or more
//     for RS/PS, EC on the alg's curve for ES, Ed25519 for EdDSA, an HMAC
//     secret for HS);
//   - the signature verifies — the payload is parsed only after this, so
//     claims of unauthenticated tokens never reach the JSON decoder;
//   - the payload is a JSON object; exp is present and not past, nbf and
//     iat are not in the future (each with Leeway);
//   - iss equals one of Issuers exactly, and aud contains the audience
//     (InsecureLauncherCompat accepts tokens without them);
//   - the SMART claims are well-formed (see NewLaunchContext).
//
// A verified token is cached until its exp (plus Leeway), keyed by the
// whole token; a repeated token then costs a map lookup. Cached results are
// dropped whenever a JWK Set is refreshed, so a key removed from the JWK Set
// stops being accepted for cached tokens too.
//
// The payload is read member by member and only the claims of the
// LaunchContext are decoded; LaunchContext.Claims decodes the rest when
// first called.
type JWTVerifier struct {
	algs         map[string]allowedAlg
	keys         map[string]any // kid → static key or HMAC secret; "" for tokens without kid
	jwks         *jwksSource    // nil without JWKSURLs
	issuers      []string
	audience     string
	audienceFunc func(context.Context) (string, error)
	leeway       time.Duration
	now          func() time.Time
	requireType  string // lower case, without "application/"
	critical     []string
	names        claimFieldNames
	fields       map[string][]claimField // claim name → the fields it fills
	maxTokenSize int
	insecure     bool                           // InsecureLauncherCompat
	cache        *tokencache.Cache[cachedToken] // nil: disabled
}

// cachedToken is what the cache keeps for a verified token.
type cachedToken struct {
	lc *LaunchContext
	// generation is the JWK Set generation the token was verified under.
	generation uint64
	// anyAudience: the token has no aud (InsecureLauncherCompat), so
	// AudienceFunc is not consulted for it.
	anyAudience bool
}

// NewJWTVerifier returns a verifier for cfg. It fetches the JWK Sets once
// (a failed fetch is logged and retried, not an error: tokens are rejected
// with ErrUnknownKey until the keys arrive) and starts one refresh
// goroutine per JWK Set URL, which runs until ctx ends.
//
// It returns an error for an unusable configuration: no Issuers, no
// audience (Audience or AudienceFunc), no key source (JWKSURLs, StaticKeys
// or HMACSecrets), Leeway outside [0, 60s], an algorithm that is unknown or
// "none", a static key that is not a public key or fits none of the allowed
// algorithms, an HMAC secret without an HS* algorithm or shorter than its
// hash (unless InsecureLauncherCompat), a registered header name in
// UnderstoodCritical, or a negative size or duration.
func NewJWTVerifier(ctx context.Context, cfg JWTConfig) (*JWTVerifier, error) {
	names := cfg.ClaimNames.withDefaults()
	v := &JWTVerifier{
		audience:     cfg.Audience,
		audienceFunc: cfg.AudienceFunc,
		leeway:       cfg.Leeway,
		now:          cfg.Now,
		names:        names.fieldNames(),
		maxTokenSize: cfg.MaxTokenSize,
		insecure:     cfg.InsecureLauncherCompat,
	}
	v.fields = make(map[string][]claimField, len(v.names))
	for f, name := range v.names {
		v.fields[name] = append(v.fields[name], claimField(f))
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
	if len(cfg.JWKSURLs) == 0 && len(cfg.StaticKeys) == 0 && len(cfg.HMACSecrets) == 0 {
		return nil, errors.New("smartauth: jwt verifier: no keys: set JWKSURLs, StaticKeys or HMACSecrets")
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

	algorithms := cfg.Algorithms
	if len(algorithms) == 0 {
		algorithms = defaultAlgorithms()
	}
	var err error
	if v.algs, err = allowedAlgs(algorithms, cfg.InsecureLauncherCompat); err != nil {
		return nil, err
	}
	if v.keys, err = checkKeys(cfg.StaticKeys, cfg.HMACSecrets, v.algs); err != nil {
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

	switch {
	case cfg.CacheSize == 0:
		v.cache = tokencache.New[cachedToken](defaultCacheSize)
	case cfg.CacheSize > 0:
		v.cache = tokencache.New[cachedToken](cfg.CacheSize)
	}

	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.InsecureLauncherCompat {
		logger.Warn("smartauth: JWTConfig.InsecureLauncherCompat is set: tokens without iss or aud, and HMAC secrets shorter than their hash, are accepted. This is for development against the SMART launcher only.")
	}

	if len(cfg.JWKSURLs) > 0 {
		o := jwksOptions{
			urls:               cfg.JWKSURLs,
			client:             cfg.HTTPClient,
			refreshInterval:    cfg.JWKSRefreshInterval,
			unknownKIDInterval: cfg.UnknownKIDRefreshInterval,
			unknownKIDWait:     cfg.UnknownKIDWait,
			logger:             logger,
		}
		if o.refreshInterval == 0 {
			o.refreshInterval = defaultJWKSRefreshInterval
		}
		if o.unknownKIDInterval == 0 {
			o.unknownKIDInterval = defaultUnknownKIDInterval
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
	if lc, hit, err := v.cached(ctx, token); hit {
		return lc, err
	}
	return v.verify(ctx, token)
}

// cached answers for a token verified before whose cache entry is still
// good: the very same bytes, not past exp plus Leeway, verified under the
// current JWK Sets. hit is false for any other token. Every token it knows
// is a well-formed JWS, and so an RFC 6750 b64token; Authenticate relies on
// that to skip the character check of repeated tokens.
func (v *JWTVerifier) cached(ctx context.Context, token string) (lc *LaunchContext, hit bool, err error) {
	if v.cache == nil || len(token) > v.maxTokenSize {
		return nil, false, nil
	}
	c, ok := v.cache.Get(token, v.now())
	if !ok || c.generation != v.generation() {
		return nil, false, nil
	}
	if v.audienceFunc != nil && !c.anyAudience {
		if err := v.checkAudienceList(ctx, c.lc.Audience); err != nil {
			return nil, true, err
		}
	}
	return c.lc, true, nil
}

// verify verifies token without looking at the cache, and caches it if
// it is good.
func (v *JWTVerifier) verify(ctx context.Context, token string) (*LaunchContext, error) {
	if len(token) > v.maxTokenSize {
		return nil, errTokenTooLarge
	}
	if token == "" {
		return nil, errEmptyToken
	}
	// Read before the keys are: a refresh during the verification makes
	// the cached result stale at once.
	generation := v.generation()

	jws, err := splitJWS(token)
	if err != nil {
		return nil, err
	}
	h, err := parseHeader(jws.header)
	if err != nil {
		return nil, err
	}
	alg, algName, err := v.algorithm(&h)
	if err != nil {
		return nil, err
	}
	if err := v.checkHeader(&h); err != nil {
		return nil, err
	}
	key, set, err := v.key(ctx, &h, alg, algName)
	if err != nil {
		return nil, err
	}
	if !verifySignature(alg.method, jws.signingInput, jws.signature, key, set) {
		return nil, errBadSignature
	}

	// The payload comes from the trusted issuer from here on.
	claims, payload, err := v.readClaims(jws.payload)
	if err != nil {
		return nil, err
	}
	if err := v.checkLifetime(&claims); err != nil {
		return nil, err
	}
	if err := v.checkIssuer(&claims); err != nil {
		return nil, err
	}
	anyAudience, err := v.checkAudience(ctx, &claims)
	if err != nil {
		return nil, err
	}
	lc, err := launchContextFromValues(&claims, &v.names)
	if err != nil {
		return nil, err
	}
	lc.claims = &rawClaims{payload: payload}
	if v.cache != nil {
		// A copy: token may be a substring of a large form body.
		v.cache.Put(strings.Clone(token), cachedToken{lc: lc, generation: generation, anyAudience: anyAudience},
			lc.ExpiresAt.Add(v.leeway))
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

// algorithm returns the token's alg from the allow-list.
func (v *JWTVerifier) algorithm(h *jwsHeader) (allowedAlg, string, error) {
	if !h.alg.isStr {
		return allowedAlg{}, "", errNoAlg
	}
	alg, ok := v.algs[h.alg.value]
	if !ok {
		return allowedAlg{}, "", errAlgNotAllowed
	}
	return alg, h.alg.value, nil
}

// checkHeader enforces RequireType and crit (RFC 7515 §4.1.11).
func (v *JWTVerifier) checkHeader(h *jwsHeader) error {
	if v.requireType != "" && !strings.EqualFold(trimMediaTypePrefix(h.typ.value), v.requireType) {
		return errBadType
	}
	if !h.hasCrit {
		return nil
	}
	names, err := h.critNames()
	if err != nil {
		return err
	}
	for _, name := range names {
		if !slices.Contains(v.critical, name) {
			return errCritUnsupported
		}
	}
	present := h.names()
	for _, name := range names {
		if !present[name] {
			return errCritMalformed
		}
	}
	return nil
}

// key returns the verification key for the token's kid and alg, or for a
// token without kid and no static key for it, the fitting keys of the JWK
// Sets to try in turn.
func (v *JWTVerifier) key(ctx context.Context, h *jwsHeader, alg allowedAlg, algName string) (key any, set []any, err error) {
	if h.kid.present && !h.kid.isStr {
		return nil, nil, errKidNotString
	}
	kid := h.kid.value
	if key, ok := v.keys[kid]; ok {
		if !keyFits(alg.spec, key) {
			return nil, nil, errKeyAlgMismatch
		}
		return key, nil, nil
	}
	// HMAC secrets are only ever configured: a JWK Set is public.
	if v.jwks == nil || alg.spec.family == familyHMAC {
		return nil, nil, errUnknownKey
	}
	if !h.kid.present {
		set = v.jwks.keys(ctx)
		set = slices.DeleteFunc(set, func(k any) bool { return !keyFits(alg.spec, k) })
		if len(set) == 0 {
			return nil, nil, errUnknownKey
		}
		return nil, set, nil
	}
	if key, err = v.jwks.key(ctx, kid, algName); err != nil {
		return nil, nil, err
	}
	if !keyFits(alg.spec, key) {
		return nil, nil, errKeyAlgMismatch
	}
	return key, nil, nil
}

// verifySignature reports whether sig is a signature of input by key, or
// by one of set.
func verifySignature(method jwt.SigningMethod, input string, sig []byte, key any, set []any) bool {
	if set == nil {
		return method.Verify(input, sig, key) == nil
	}
	for _, k := range set {
		if method.Verify(input, sig, k) == nil {
			return true
		}
	}
	return false
}

// readClaims reads the claims the verifier and the LaunchContext need out
// of the payload, and returns the payload as a string for
// LaunchContext.Claims. It fails exactly when encoding/json would fail to
// decode the payload into a map.
func (v *JWTVerifier) readClaims(b []byte) (claimValues, string, error) {
	var c claimValues
	if !json.Valid(b) {
		return c, "", errMalformedPayload
	}
	payload := string(b)
	err := jsonobject.Members(payload, func(name, value string) error {
		fields := v.fields[name]
		if len(fields) == 0 {
			return nil
		}
		x, err := jsonobject.Decode(value)
		for _, f := range fields {
			c.set(f, x)
		}
		return err
	})
	if err != nil {
		return c, "", errMalformedPayload
	}
	return c, payload, nil
}

// checkLifetime checks exp (required), nbf and iat with the leeway, as
// golang-jwt's validator does: a token is good while now < exp + leeway
// and now + leeway >= nbf and iat.
func (v *JWTVerifier) checkLifetime(c *claimValues) error {
	exp, err := registeredDate(c, fieldExp, "exp")
	if err != nil {
		return err
	}
	nbf, err := registeredDate(c, fieldNbf, "nbf")
	if err != nil {
		return err
	}
	iat, err := registeredDate(c, fieldIat, "iat")
	if err != nil {
		return err
	}
	now := v.now()
	switch {
	case exp.IsZero():
		return errNoExpiry
	case !now.Before(exp.Add(v.leeway)):
		return errTokenExpired
	case !nbf.IsZero() && now.Add(v.leeway).Before(nbf):
		return errTokenNotYetValid
	case !iat.IsZero() && now.Add(v.leeway).Before(iat):
		return errIssuedInFuture
	}
	return nil
}

// registeredDate returns a NumericDate claim: the zero time if it is absent
// or 0 (as golang-jwt treats 0), errMalformedClaims if it is not a number
// (null included), an ErrBadLaunchContext error if it is out of range.
func registeredDate(c *claimValues, f claimField, name string) (time.Time, error) {
	if !c.has(f) {
		return time.Time{}, nil
	}
	if _, ok := c.v[f].(float64); !ok {
		return time.Time{}, errMalformedClaims
	}
	return numericDateClaim(c.v[f], name)
}

// checkIssuer checks that iss is one of the trusted issuers.
func (v *JWTVerifier) checkIssuer(c *claimValues) error {
	if !c.has(fieldIss) && v.insecure {
		return nil
	}
	if iss, ok := c.v[fieldIss].(string); !ok || !slices.Contains(v.issuers, iss) {
		return errBadIssuer
	}
	return nil
}

// checkAudience checks that aud contains the expected audience. anyAudience
// reports a token without aud accepted by InsecureLauncherCompat.
func (v *JWTVerifier) checkAudience(ctx context.Context, c *claimValues) (anyAudience bool, err error) {
	if !c.has(fieldAud) && v.insecure {
		return true, nil
	}
	want, err := v.expectedAudience(ctx)
	if err != nil {
		return false, err
	}
	if !audienceContains(c.v[fieldAud], want) {
		return false, errBadAudience
	}
	return false, nil
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
