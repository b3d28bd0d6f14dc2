package authserver

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/smartauth/smartauth/tokenstore"
)

// maxAssertionLen bounds the length of a client_assertion.
const maxAssertionLen = 16 << 10

// Reasons a client assertion is refused, in Error.Err. They all wrap
// errInvalidAssertion and never contain a claim value.
var (
	errInvalidAssertion         = errors.New("authserver: invalid client assertion")
	errUnsupportedAssertionType = fmt.Errorf("%w: unsupported client_assertion_type", errInvalidAssertion)
	errAssertionTooLong         = fmt.Errorf("%w: too long", errInvalidAssertion)
	errAssertionHeader          = fmt.Errorf("%w: unacceptable header (crit, typ or kid)", errInvalidAssertion)
	errAssertionJKU             = fmt.Errorf("%w: jku is not the registered JWKS URL", errInvalidAssertion)
	errAssertionIssuer          = fmt.Errorf("%w: iss and sub must both be the client_id", errInvalidAssertion)
	errAssertionAudience        = fmt.Errorf("%w: aud does not contain the token endpoint", errInvalidAssertion)
	errAssertionExpiry          = fmt.Errorf("%w: exp missing, passed, or too far in the future", errInvalidAssertion)
	errAssertionJTI             = fmt.Errorf("%w: jti missing", errInvalidAssertion)
	errAssertionKey             = fmt.Errorf("%w: no registered key has this kid and fits alg", errInvalidAssertion)
	errAssertionAmbiguousKey    = fmt.Errorf("%w: more than one registered key has this kid and fits alg", errInvalidAssertion)
	errAssertionReplayed        = fmt.Errorf("%w: jti already used", errInvalidAssertion)
)

// acceptedAssertionTypes are the typ header values accepted, compared
// case-insensitively; typ may also be absent.
var acceptedAssertionTypes = []string{
	"jwt", "application/jwt", "client-authentication+jwt", "application/client-authentication+jwt",
}

// jwtErrors are the golang-jwt errors reported as the reason of a refused
// assertion (their messages carry no claim value, unlike the wrapped
// causes).
var jwtErrors = []error{
	jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable, jwt.ErrTokenSignatureInvalid,
	jwt.ErrTokenExpired, jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenNotValidYet,
	jwt.ErrTokenInvalidAudience, jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenInvalidClaims,
}

// authenticateAssertion authenticates a private_key_jwt request (RFC 7523
// §2.2 and §3, SMART client-confidential-asymmetric). formClientID is the
// client_id form parameter, if any; it must equal the assertion's iss.
func (a *ClientAuthenticator) authenticateAssertion(ctx context.Context, formClientID, assertionType, assertion string) (*Client, error) {
	if assertionType == "" || assertion == "" {
		return nil, invalidRequestError("client_assertion and client_assertion_type must be sent together")
	}
	if assertionType != ClientAssertionTypeJWTBearer {
		return nil, clientAuthFailed(false, errUnsupportedAssertionType)
	}
	if len(assertion) > maxAssertionLen {
		return nil, clientAuthFailed(false, errAssertionTooLong)
	}
	check := assertionCheck{a: a, ctx: ctx, now: a.now(), formClientID: formClientID}
	claims := new(jwt.RegisteredClaims)
	if _, err := a.parser.ParseWithClaims(assertion, claims, check.key); err != nil {
		switch {
		case check.fail != nil:
			return nil, check.fail
		case check.keyErr != nil:
			return nil, clientAuthFailed(false, check.keyErr)
		}
		return nil, clientAuthFailed(false, jwtFailure(err))
	}
	c := check.client
	switch err := a.useOnce(ctx, c.ID, claims.ID, claims.ExpiresAt.Add(a.leeway), check.now); {
	case errors.Is(err, tokenstore.ErrReplayed):
		return nil, clientAuthFailed(false, errAssertionReplayed)
	case err != nil:
		return nil, clientStoreError(fmt.Errorf("authserver: replay guard: %w", err))
	}
	return c, nil
}

// jwtFailure returns the golang-jwt sentinel error in err, wrapped in
// errInvalidAssertion.
func jwtFailure(err error) error {
	for _, e := range jwtErrors {
		if errors.Is(err, e) {
			return fmt.Errorf("%w: %w", errInvalidAssertion, e)
		}
	}
	return errInvalidAssertion
}

// assertionCheck is the state of one assertion verification. Its key
// method is the jwt.Keyfunc: it runs after the token is decoded and its
// alg is found acceptable, and before the signature is verified. It checks
// the header and the claims (cheap, to refuse junk before any store or
// network access), then finds the client and its key.
type assertionCheck struct {
	a            *ClientAuthenticator
	ctx          context.Context
	now          time.Time
	formClientID string

	client *Client // set when found
	keyErr error   // the reason key refused the assertion
	fail   *Error  // a failure that is not the client's (server_error)
}

func (ac *assertionCheck) key(t *jwt.Token) (any, error) {
	key, err := ac.findKey(t)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			ac.fail = e
		} else {
			ac.keyErr = err
		}
		return nil, err
	}
	return key, nil
}

func (ac *assertionCheck) findKey(t *jwt.Token) (crypto.PublicKey, error) {
	a := ac.a
	kid, jku, hasJKU, err := assertionHeader(t.Header)
	if err != nil {
		return nil, err
	}
	claims, ok := t.Claims.(*jwt.RegisteredClaims)
	if !ok {
		return nil, errInvalidAssertion
	}
	if err := a.checkAssertionClaims(claims, ac.now, ac.formClientID); err != nil {
		return nil, err
	}
	c, err := a.lookupClient(ac.ctx, claims.Issuer)
	switch {
	case err != nil:
		return nil, err
	case c == nil:
		return nil, ErrUnknownClient
	case c.AuthMethod != AuthPrivateKeyJWT:
		return nil, errWrongClientMethod
	}
	ac.client = c
	if hasJKU {
		// SMART: a jku must be the registered JWKS URL; its keys are then
		// the candidates.
		if c.JWKSURL == "" || jku != c.JWKSURL {
			return nil, errAssertionJKU
		}
		return a.remoteAssertionKey(ac.ctx, c.JWKSURL, kid, t.Method.Alg())
	}
	return a.registeredAssertionKey(ac.ctx, c, kid, t.Method.Alg())
}

// assertionHeader checks the JOSE header: no crit (no extension is
// understood), typ absent or a JWT type, a kid, and a jku that is a string
// if present. Embedded keys (jwk, x5c, x5u) are ignored.
func assertionHeader(h map[string]any) (kid, jku string, hasJKU bool, err error) {
	if _, ok := h["crit"]; ok {
		return "", "", false, errAssertionHeader
	}
	if v, ok := h["typ"]; ok {
		typ, isString := v.(string)
		if !isString || !slices.Contains(acceptedAssertionTypes, strings.ToLower(typ)) {
			return "", "", false, errAssertionHeader
		}
	}
	kid, _ = h["kid"].(string)
	if kid == "" {
		return "", "", false, errAssertionHeader
	}
	if v, ok := h["jku"]; ok {
		if jku, ok = v.(string); !ok {
			return "", "", false, errAssertionJKU
		}
		hasJKU = true
	}
	return kid, jku, hasJKU, nil
}

// checkAssertionClaims checks the claims that do not depend on the client:
// iss = sub (= client_id if given), aud, exp and jti. nbf and iat are
// checked by the parser after the signature.
func (a *ClientAuthenticator) checkAssertionClaims(c *jwt.RegisteredClaims, now time.Time, formClientID string) error {
	switch {
	case c.Issuer == "" || c.Subject != c.Issuer:
		return errAssertionIssuer
	case formClientID != "" && formClientID != c.Issuer:
		return errClientIDMismatch
	case !slices.Contains(c.Audience, a.tokenEndpoint):
		return errAssertionAudience
	case c.ExpiresAt == nil,
		!now.Before(c.ExpiresAt.Add(a.leeway)),
		c.ExpiresAt.After(now.Add(a.maxLifetime + a.leeway)):
		return errAssertionExpiry
	case c.ID == "":
		return errAssertionJTI
	}
	return nil
}

// registeredAssertionKey finds the key with kid that fits alg among the
// client's registered keys: its inline JWKS, then its JWKS URL.
func (a *ClientAuthenticator) registeredAssertionKey(ctx context.Context, c *Client, kid, alg string) (crypto.PublicKey, error) {
	if len(c.JWKS) > 0 {
		set, err := a.inlineKeys.get(c.JWKS)
		if err != nil {
			return nil, fmt.Errorf("%w: registered JWKS: %w", errAssertionKey, err)
		}
		switch key, n := set.find(kid, alg); {
		case n == 1:
			return key, nil
		case n > 1:
			return nil, errAssertionAmbiguousKey
		}
	}
	if c.JWKSURL != "" {
		return a.remoteAssertionKey(ctx, c.JWKSURL, kid, alg)
	}
	return nil, errAssertionKey
}

// remoteAssertionKey finds the key with kid that fits alg in the JWK Set at
// url, refetching the set (rate-limited) if the kid is not in the cached
// copy.
func (a *ClientAuthenticator) remoteAssertionKey(ctx context.Context, url, kid, alg string) (crypto.PublicKey, error) {
	set, err := a.remoteKeys.keys(ctx, url)
	if err != nil {
		return nil, err
	}
	key, n := set.find(kid, alg)
	if n == 0 {
		set, refreshed, err := a.remoteKeys.refresh(ctx, url)
		if err != nil {
			return nil, err
		}
		if refreshed {
			key, n = set.find(kid, alg)
		}
	}
	switch {
	case n == 1:
		return key, nil
	case n > 1:
		return nil, errAssertionAmbiguousKey
	}
	return nil, errAssertionKey
}
