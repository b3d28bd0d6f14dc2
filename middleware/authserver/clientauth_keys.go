package authserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/MicahParks/jwkset"
)

// Limits on client key sets.
const (
	// maxClientKeys is the largest number of keys accepted in one JWK Set.
	maxClientKeys = 100
	// minRSABits and maxRSABits bound RSA modulus sizes (RFC 7518 §3.3
	// requires 2048 bits or more; very large moduli make verification
	// expensive).
	minRSABits = 2048
	maxRSABits = 8192
	// maxKeySetCacheEntries bounds the cache of parsed inline JWK Sets.
	maxKeySetCacheEntries = 1024
)

// errInvalidJWKS reports a JWK Set document that is not valid JSON of the
// form {"keys":[...]} or has too many keys.
var errInvalidJWKS = errors.New("authserver: invalid JWK Set")

// clientKey is one usable public signature key of a client.
type clientKey struct {
	kid string
	alg string // the JWK's "alg", or "" if it has none
	key crypto.PublicKey
}

// clientKeySet is the usable signature keys of a client JWK Set.
type clientKeySet []clientKey

// parseClientKeySet parses a JWK Set document and keeps the keys that can
// verify a client assertion: RSA (2048 to 8192 bits), EC on P-256, P-384 or
// P-521, and Ed25519 keys, whose "use" is absent or "sig" and whose
// "key_ops", if present, include "verify". Other keys (symmetric, private
// material, encryption keys, malformed entries) are skipped, not errors;
// only the bare key parameters are read (x5c, x5u and thumbprints are
// ignored). It fails only if the document itself is malformed or has more
// than maxClientKeys keys.
func parseClientKeySet(raw []byte) (clientKeySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Keys == nil {
		return nil, errInvalidJWKS
	}
	if len(doc.Keys) > maxClientKeys {
		return nil, fmt.Errorf("%w: more than %d keys", errInvalidJWKS, maxClientKeys)
	}
	set := make(clientKeySet, 0, len(doc.Keys))
	for _, rawKey := range doc.Keys {
		if k, ok := parseClientKey(rawKey); ok {
			set = append(set, k)
		}
	}
	return set, nil
}

// parseClientKey parses one JWK; ok is false if it is not a usable public
// signature key.
func parseClientKey(raw json.RawMessage) (clientKey, bool) {
	var m jwkset.JWKMarshal
	if err := json.Unmarshal(raw, &m); err != nil {
		return clientKey{}, false
	}
	if m.USE != "" && m.USE != jwkset.UseSig {
		return clientKey{}, false
	}
	if len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify) {
		return clientKey{}, false
	}
	if m.KTY != jwkset.KtyRSA && m.KTY != jwkset.KtyEC && m.KTY != jwkset.KtyOKP {
		return clientKey{}, false
	}
	// Only the public, bare key parameters; nothing that could make
	// jwkset fetch a URL or parse certificates.
	pub := jwkset.JWKMarshal{
		KTY: m.KTY, USE: m.USE, KEYOPS: m.KEYOPS, ALG: m.ALG, KID: m.KID,
		CRV: m.CRV, X: m.X, Y: m.Y, N: m.N, E: m.E,
	}
	jwk, err := jwkset.NewJWKFromMarshal(pub, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return clientKey{}, false
	}
	k := clientKey{kid: m.KID, alg: string(m.ALG), key: jwk.Key()}
	switch key := k.key.(type) {
	case *rsa.PublicKey:
		if n := key.N.BitLen(); n < minRSABits || n > maxRSABits || key.E < 3 || key.E%2 == 0 {
			return clientKey{}, false
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return clientKey{}, false
	}
	return k, true
}

// find returns the key with the given kid that can verify alg, and the
// number of such keys: the caller must accept the key only if n is 1
// (SMART client-confidential-asymmetric, "Signature Verification", step 3).
func (s clientKeySet) find(kid, alg string) (key crypto.PublicKey, n int) {
	for _, k := range s {
		if k.kid == kid && (k.alg == "" || k.alg == alg) && keyFitsAlg(k.key, alg) {
			key = k.key
			n++
		}
	}
	return key, n
}

// keyFitsAlg reports whether key has the type (and curve) that alg needs.
func keyFitsAlg(key crypto.PublicKey, alg string) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
			return true
		}
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return k.Curve == elliptic.P256()
		case "ES384":
			return k.Curve == elliptic.P384()
		case "ES512":
			return k.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// clientKeySetCache caches parsed inline JWK Sets (Client.JWKS) by the
// SHA-256 of their bytes, so that each registered set is parsed once.
type clientKeySetCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]parsedKeySet
}

type parsedKeySet struct {
	keys clientKeySet
	err  error
}

func newClientKeySetCache() *clientKeySetCache {
	return &clientKeySetCache{entries: make(map[[sha256.Size]byte]parsedKeySet)}
}

// get returns the parsed form of raw.
func (c *clientKeySetCache) get(raw []byte) (clientKeySet, error) {
	sum := sha256.Sum256(raw)
	c.mu.Lock()
	e, ok := c.entries[sum]
	c.mu.Unlock()
	if ok {
		return e.keys, e.err
	}
	keys, err := parseClientKeySet(raw)
	c.mu.Lock()
	if len(c.entries) >= maxKeySetCacheEntries {
		clear(c.entries)
	}
	c.entries[sum] = parsedKeySet{keys: keys, err: err}
	c.mu.Unlock()
	return keys, err
}
