package authserver

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/smartauth/smartauth/middleware"
)

// AccessTokenVerifier returns a middleware.TokenVerifier of the JWT access
// tokens signed with this KeySet, made by middleware.NewJWTVerifier from
// cfg: cfg's Issuers and Audience (or AudienceFunc) are required as usual,
// and its other fields keep their meaning, except that
//
//   - StaticKeys and Algorithms are the KeySet's: its active key, its next
//     keys and the retired keys still within their retireAfter time (HMAC
//     keys included: they are secrets, not published, but this verifier
//     runs in the same process), and the algorithms of those keys;
//   - JWKSURLs must be empty;
//   - RequireType, if empty, is TypeAccessToken ("at+jwt").
//
// The verifier follows the KeySet: after a Rotate, SetKeys or Reload, or
// once a retired key's time has passed, the next verification uses the new
// set of keys. It
// suits an introspection or revocation endpoint and a resource server
// running in the same process as the authorization server; a separate
// resource server should use the published JWK Set instead.
//
// It checks the signature, typ, iss, aud, exp, nbf and iat of the token,
// not whether its grant has been revoked.
func (ks *KeySet) AccessTokenVerifier(cfg middleware.JWTConfig) (middleware.TokenVerifier, error) {
	if len(cfg.JWKSURLs) > 0 {
		return nil, errors.New("authserver: AccessTokenVerifier takes its keys from the KeySet, not from JWKSURLs")
	}
	if cfg.RequireType == "" {
		cfg.RequireType = TypeAccessToken
	}
	v := &keySetVerifier{ks: ks, cfg: cfg}
	if _, err := v.current(); err != nil {
		return nil, err
	}
	return v, nil
}

// keySetVerifier builds a JWT verifier for each state of a KeySet.
type keySetVerifier struct {
	ks  *KeySet
	cfg middleware.JWTConfig
	cur atomic.Pointer[stateVerifier]
}

// stateVerifier verifies tokens with the keys of one KeySet state, until
// validUntil (the earliest retirement time of its keys; zero: forever).
type stateVerifier struct {
	state      *keyState
	validUntil time.Time
	verifier   middleware.TokenVerifier
}

// VerifyToken verifies token with the KeySet's current keys.
func (v *keySetVerifier) VerifyToken(ctx context.Context, token string) (*middleware.LaunchContext, error) {
	sv, err := v.current()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", middleware.ErrVerifierUnavailable, err)
	}
	return sv.verifier.VerifyToken(ctx, token)
}

// current returns the verifier for the KeySet's current state, building it
// if the state changed or a retired key's time has passed. Concurrent
// callers may build it twice; either result is correct.
func (v *keySetVerifier) current() (*stateVerifier, error) {
	st := v.ks.state.Load()
	now := v.ks.now()
	if sv := v.cur.Load(); sv != nil && sv.state == st && (sv.validUntil.IsZero() || now.Before(sv.validUntil)) {
		return sv, nil
	}
	keys := make(map[string]crypto.PublicKey, 1+len(st.next)+len(st.retired))
	secrets := make(map[string][]byte)
	var algs []string
	for p := range st.accepted(now) {
		if p.public != nil {
			keys[p.id] = p.public
		} else if b, ok := p.key.([]byte); ok {
			secrets[p.id] = b
		}
		if !slices.Contains(algs, p.alg) {
			algs = append(algs, p.alg)
		}
	}
	var validUntil time.Time
	for _, r := range st.retired {
		if now.Before(r.until) && (validUntil.IsZero() || r.until.Before(validUntil)) {
			validUntil = r.until
		}
	}
	cfg := v.cfg
	cfg.StaticKeys = keys
	cfg.HMACSecrets = secrets
	cfg.Algorithms = algs
	// Without JWKSURLs the verifier starts no goroutine: ctx is not kept.
	verifier, err := middleware.NewJWTVerifier(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("authserver: access token verifier: %w", err)
	}
	sv := &stateVerifier{state: st, validUntil: validUntil, verifier: verifier}
	v.cur.Store(sv)
	return sv, nil
}
