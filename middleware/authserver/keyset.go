package authserver

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidSigningKey is returned (wrapped) by NewKeySet, KeySet.Rotate and
// GenerateSigningKey for an unsupported algorithm, a key that does not fit
// its algorithm, or a duplicate key ID.
var ErrInvalidSigningKey = errors.New("authserver: invalid signing key")

// SigningKey is a private key the authorization server signs tokens with.
type SigningKey struct {
	// ID is the kid. Zero value: the RFC 7638 JWK thumbprint of the
	// public key (an HMAC key must have an ID).
	ID string
	// Algorithm is the JWS alg: RS256, RS384, RS512, PS256, PS384, PS512
	// (Key an *rsa.PrivateKey of at least 2048 bits), ES256, ES384, ES512
	// (Key an *ecdsa.PrivateKey on P-256, P-384, P-521), EdDSA (Key an
	// ed25519.PrivateKey), or HS256, HS384, HS512 (Secret; only with
	// WithHMAC).
	Algorithm string
	// Key is the private key of an asymmetric algorithm.
	Key crypto.Signer
	// Secret is the shared secret of an HMAC algorithm, at least as long as
	// the hash output. HMAC keys are never published in the JWK Set.
	Secret []byte
}

// KeySetOption configures NewKeySet.
type KeySetOption func(*KeySet)

// WithKeySetClock sets the clock that decides when retired keys stop being
// published. Default: time.Now.
func WithKeySetClock(now func() time.Time) KeySetOption {
	return func(ks *KeySet) { ks.now = now }
}

// WithHMAC allows HMAC (HS256, HS384, HS512) signing keys. Tokens signed
// with them can be verified only by holders of the secret; prefer an
// asymmetric key.
func WithHMAC() KeySetOption {
	return func(ks *KeySet) { ks.allowHMAC = true }
}

// WithKeySetLogger sets the logger of key changes (SetKeys, Reload,
// WatchFile): key IDs and statuses, never key material. Default:
// slog.Default().
func WithKeySetLogger(l *slog.Logger) KeySetOption {
	return func(ks *KeySet) { ks.logger = l }
}

// KeySet holds the active signing key, the next keys published ahead of
// their use, and the retired keys whose tokens may still be in use. Sign
// uses the active key; PublicJWKS, PublicKeys, JWKSHandler and
// AccessTokenVerifier use the active, next and not yet expired retired
// keys. A KeySet is safe for concurrent use; Sign takes no lock.
//
// Its keys come from NewKeySet and Rotate (one process), or from a key set
// file shared by every instance (LoadKeySetFile, ReloadFile, WatchFile;
// SetKeys for keys from elsewhere), which lets many instances rotate keys
// together without a moment where one instance's tokens fail on another:
// see SetKeys for the procedure.
type KeySet struct {
	now       func() time.Time
	allowHMAC bool
	logger    *slog.Logger // nil: slog.Default()

	mu    sync.Mutex // serialises Rotate and SetKeys
	state atomic.Pointer[keyState]
}

// keyState is an immutable snapshot of the keys.
type keyState struct {
	active  *preparedKey
	next    []*preparedKey // published and accepted, not signing yet
	retired []retiredKey
}

type retiredKey struct {
	key   *preparedKey
	until time.Time
}

// preparedKey is a SigningKey checked and ready to sign with.
type preparedKey struct {
	id     string
	alg    string
	method jwt.SigningMethod
	key    any              // what method.Sign takes
	public crypto.PublicKey // nil for HMAC
	jwk    json.RawMessage  // public JWK; nil for HMAC
	// headers are the base64url-encoded JOSE headers for the common typ
	// values, built once.
	atHeader, jwtHeader string
	sigLen              int // signature length in bytes
}

// NewKeySet returns a KeySet whose active key is active.
func NewKeySet(active SigningKey, opts ...KeySetOption) (*KeySet, error) {
	ks := &KeySet{now: time.Now}
	for _, opt := range opts {
		opt(ks)
	}
	p, err := ks.prepare(active)
	if err != nil {
		return nil, err
	}
	ks.state.Store(&keyState{active: p})
	return ks, nil
}

// Rotate makes next the active key. The previous active key stays published
// until retireAfter, which should be at least now plus the longest lifetime
// of the tokens it signed (the access-token lifetime); a retireAfter in the
// past unpublishes it at once. Retired keys past their time are dropped. A
// next key (KeyNext) with the ID of next must be the same key; it becomes
// the active one.
//
// Rotate changes this process only: instances that share tokens should
// rotate through a shared key set file instead (see SetKeys).
func (ks *KeySet) Rotate(next SigningKey, retireAfter time.Time) error {
	p, err := ks.prepare(next)
	if err != nil {
		return err
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	old := ks.state.Load()
	now := ks.now()
	st := &keyState{active: p}
	for _, n := range old.next {
		if n.id != p.id {
			st.next = append(st.next, n)
		} else if !n.sameKey(p) {
			return fmt.Errorf("%w: key ID %q is published for another key", ErrInvalidSigningKey, p.id)
		}
	}
	for _, r := range append(old.retired, retiredKey{key: old.active, until: retireAfter}) {
		if !now.Before(r.until) {
			continue
		}
		if r.key.id == p.id {
			return fmt.Errorf("%w: key ID %q is already published", ErrInvalidSigningKey, p.id)
		}
		st.retired = append(st.retired, r)
	}
	ks.state.Store(st)
	return nil
}

// ActiveKeyID returns the kid of the active key.
func (ks *KeySet) ActiveKeyID() string { return ks.state.Load().active.id }

// Algorithm returns the alg of the active key.
func (ks *KeySet) Algorithm() string { return ks.state.Load().active.alg }

// PublicKeys returns the published public keys by kid: the active key, the
// next keys and the retired keys not yet past their time (HMAC keys are
// never included).
// It suits middleware.JWTConfig.StaticKeys in tests and single-process
// deployments; a static map does not follow later rotations.
func (ks *KeySet) PublicKeys() map[string]crypto.PublicKey {
	keys := make(map[string]crypto.PublicKey)
	for _, p := range ks.published() {
		keys[p.id] = p.public
	}
	return keys
}

// PublicJWKS returns the JWK Set (RFC 7517) of the published public keys:
// never a private key or an HMAC secret.
func (ks *KeySet) PublicJWKS() ([]byte, error) {
	set := struct {
		Keys []json.RawMessage `json:"keys"`
	}{Keys: []json.RawMessage{}}
	for _, p := range ks.published() {
		set.Keys = append(set.Keys, p.jwk)
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("authserver: encoding JWK Set: %w", err)
	}
	return b, nil
}

// published returns the asymmetric keys to publish at the KeySet's now:
// the active key, the next keys, the retired keys not past their time.
func (ks *KeySet) published() []*preparedKey {
	var keys []*preparedKey
	for p := range ks.state.Load().accepted(ks.now()) {
		if p.public != nil {
			keys = append(keys, p)
		}
	}
	return keys
}

// accepted yields the keys whose tokens are accepted at now, HMAC keys
// included: the active key, the next keys, and the retired keys whose time
// has not passed.
func (st *keyState) accepted(now time.Time) iter.Seq[*preparedKey] {
	return func(yield func(*preparedKey) bool) {
		if !yield(st.active) {
			return
		}
		for _, n := range st.next {
			if !yield(n) {
				return
			}
		}
		for _, r := range st.retired {
			if now.Before(r.until) && !yield(r.key) {
				return
			}
		}
	}
}

// sameKey reports whether p and q are the same key with the same
// algorithm (HMAC secrets compared in constant time).
func (p *preparedKey) sameKey(q *preparedKey) bool {
	if p.alg != q.alg {
		return false
	}
	if p.public != nil || q.public != nil {
		return bytes.Equal(p.jwk, q.jwk)
	}
	ps, _ := p.key.([]byte)
	qs, _ := q.key.([]byte)
	return hmac.Equal(ps, qs)
}

// GenerateSigningKey returns a new random signing key for alg: RS256, RS384,
// RS512, PS256, PS384, PS512 (2048-bit RSA), ES256, ES384, ES512, EdDSA, or
// HS256, HS384, HS512 (a random secret of the hash size and a random ID;
// NewKeySet accepts it only WithHMAC). The ID is the JWK thumbprint for
// asymmetric keys.
func GenerateSigningKey(alg string) (SigningKey, error) {
	k := SigningKey{Algorithm: alg}
	var err error
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		k.Key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		k.Key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		k.Key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		k.Key, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "EdDSA":
		_, k.Key, err = ed25519.GenerateKey(rand.Reader)
	case "HS256", "HS384", "HS512":
		k.Secret = make([]byte, jwt.GetSigningMethod(alg).(*jwt.SigningMethodHMAC).Hash.Size())
		_, _ = rand.Read(k.Secret)
		id := make([]byte, 16)
		_, _ = rand.Read(id)
		k.ID = base64.RawURLEncoding.EncodeToString(id)
		return k, nil
	default:
		return SigningKey{}, fmt.Errorf("%w: unsupported algorithm %q", ErrInvalidSigningKey, alg)
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("authserver: generating %s key: %w", alg, err)
	}
	k.ID, _, err = publicJWK(k.Key.Public(), alg)
	if err != nil {
		return SigningKey{}, err
	}
	return k, nil
}

// prepare checks k and builds what signing with it needs.
func (ks *KeySet) prepare(k SigningKey) (*preparedKey, error) {
	method := jwt.GetSigningMethod(k.Algorithm)
	if method == nil || k.Algorithm == "none" {
		return nil, fmt.Errorf("%w: unsupported algorithm %q", ErrInvalidSigningKey, k.Algorithm)
	}
	p := &preparedKey{id: k.ID, alg: k.Algorithm, method: method}
	if hm, ok := method.(*jwt.SigningMethodHMAC); ok {
		switch {
		case !ks.allowHMAC:
			return nil, fmt.Errorf("%w: HMAC keys need WithHMAC", ErrInvalidSigningKey)
		case k.Key != nil:
			return nil, fmt.Errorf("%w: an HMAC key has a Secret, not a Key", ErrInvalidSigningKey)
		case len(k.Secret) < hm.Hash.Size():
			return nil, fmt.Errorf("%w: %s secret shorter than %d bytes", ErrInvalidSigningKey, k.Algorithm, hm.Hash.Size())
		case k.ID == "":
			return nil, fmt.Errorf("%w: an HMAC key needs an ID", ErrInvalidSigningKey)
		}
		p.key = slices.Clone(k.Secret)
		p.sigLen = hm.Hash.Size()
	} else {
		if k.Key == nil || len(k.Secret) != 0 {
			return nil, fmt.Errorf("%w: %s needs a private Key and no Secret", ErrInvalidSigningKey, k.Algorithm)
		}
		if err := checkKeyFitsAlg(k.Key, k.Algorithm); err != nil {
			return nil, err
		}
		if rk, ok := k.Key.(*rsa.PrivateKey); ok {
			rk.Precompute()
			p.sigLen = rk.Size()
		} else if ek, ok := k.Key.(*ecdsa.PrivateKey); ok {
			p.sigLen = 2 * ((ek.Curve.Params().BitSize + 7) / 8)
		} else {
			p.sigLen = ed25519.SignatureSize
		}
		thumb, jwk, err := publicJWK(k.Key.Public(), k.Algorithm)
		if err != nil {
			return nil, err
		}
		if p.id == "" {
			p.id = thumb
		}
		p.key, p.public = k.Key, k.Key.Public()
		// Publish the JWK with use, alg and kid added.
		p.jwk, err = addJWKMembers(jwk, p.id, p.alg)
		if err != nil {
			return nil, err
		}
	}
	p.atHeader = encodeHeader(p.alg, p.id, "at+jwt")
	p.jwtHeader = encodeHeader(p.alg, p.id, "JWT")
	return p, nil
}

// checkKeyFitsAlg reports whether key is the key type alg needs.
func checkKeyFitsAlg(key crypto.Signer, alg string) error {
	mismatch := fmt.Errorf("%w: key type %T does not fit %s", ErrInvalidSigningKey, key, alg)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if alg[:2] != "RS" && alg[:2] != "PS" {
			return mismatch
		}
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("%w: RSA keys must have at least 2048 bits", ErrInvalidSigningKey)
		}
	case *ecdsa.PrivateKey:
		want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		if want == nil || k.Curve != want {
			return mismatch
		}
	case ed25519.PrivateKey:
		if alg != "EdDSA" || len(k) != ed25519.PrivateKeySize {
			return mismatch
		}
	default:
		return mismatch
	}
	return nil
}

// jwkParams are the public members of a JWK, in the lexicographic order
// RFC 7638 thumbprints need (encoding/json writes struct fields in
// declaration order).
type rsaJWK struct {
	E   string `json:"e"`
	Kty string `json:"kty"`
	N   string `json:"n"`
}

type ecJWK struct {
	Crv string `json:"crv"`
	Kty string `json:"kty"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

type okpJWK struct {
	Crv string `json:"crv"`
	Kty string `json:"kty"`
	X   string `json:"x"`
}

// publicJWK returns the RFC 7638 thumbprint of pub and its JWK (required
// members only).
func publicJWK(pub crypto.PublicKey, alg string) (thumbprint string, jwk []byte, err error) {
	b64 := base64.RawURLEncoding.EncodeToString
	var v any
	switch k := pub.(type) {
	case *rsa.PublicKey:
		v = rsaJWK{E: b64(big.NewInt(int64(k.E)).Bytes()), Kty: "RSA", N: b64(k.N.Bytes())}
	case *ecdsa.PublicKey:
		raw, err := k.Bytes()
		if err != nil {
			return "", nil, fmt.Errorf("%w: %w", ErrInvalidSigningKey, err)
		}
		n := (len(raw) - 1) / 2
		v = ecJWK{Crv: k.Curve.Params().Name, Kty: "EC", X: b64(raw[1 : 1+n]), Y: b64(raw[1+n:])}
	case ed25519.PublicKey:
		v = okpJWK{Crv: "Ed25519", Kty: "OKP", X: b64(k)}
	default:
		return "", nil, fmt.Errorf("%w: unsupported public key type %T for %s", ErrInvalidSigningKey, pub, alg)
	}
	jwk, err = json.Marshal(v)
	if err != nil {
		return "", nil, fmt.Errorf("authserver: encoding JWK: %w", err)
	}
	sum := sha256.Sum256(jwk)
	return b64(sum[:]), jwk, nil
}

// addJWKMembers adds kid, use and alg to a public JWK.
func addJWKMembers(jwk []byte, kid, alg string) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(jwk, &m); err != nil {
		return nil, fmt.Errorf("authserver: encoding JWK: %w", err)
	}
	m["kid"], m["use"], m["alg"] = kid, "sig", alg
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("authserver: encoding JWK: %w", err)
	}
	return b, nil
}
