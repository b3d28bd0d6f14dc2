package middleware

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
)

// keyFamily is the kind of key a JWS algorithm verifies with.
type keyFamily uint8

const (
	familyRSA keyFamily = iota + 1
	familyEC
	familyEd25519
	familyHMAC
)

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const minRSABits = 2048

// algSpec describes one supported JWS algorithm.
type algSpec struct {
	family keyFamily
	curve  elliptic.Curve // ES*: the curve the key must be on
	minKey int            // HS*: minimum key length in bytes (RFC 7518 §3.2)
}

// lookupAlg returns the spec of a supported algorithm. "none" is not one.
func lookupAlg(alg string) (algSpec, bool) {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return algSpec{family: familyRSA}, true
	case "ES256":
		return algSpec{family: familyEC, curve: elliptic.P256()}, true
	case "ES384":
		return algSpec{family: familyEC, curve: elliptic.P384()}, true
	case "ES512":
		return algSpec{family: familyEC, curve: elliptic.P521()}, true
	case "EdDSA":
		return algSpec{family: familyEd25519}, true
	case "HS256":
		return algSpec{family: familyHMAC, minKey: 32}, true
	case "HS384":
		return algSpec{family: familyHMAC, minKey: 48}, true
	case "HS512":
		return algSpec{family: familyHMAC, minKey: 64}, true
	}
	return algSpec{}, false
}

// defaultAlgorithms is the allow-list used when JWTConfig.Algorithms is
// empty: every supported asymmetric algorithm.
func defaultAlgorithms() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
}

// keyFits reports whether key may verify a signature made with an
// algorithm of spec: the key type must be the algorithm's (never a public
// key for HMAC, never bytes for a public-key algorithm), EC keys must be on
// the algorithm's curve, RSA keys at least 2048 bits and HMAC keys at least
// as long as the hash.
func keyFits(spec algSpec, key any) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return spec.family == familyRSA && k != nil && k.N != nil && k.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey:
		return spec.family == familyEC && k != nil && k.Curve == spec.curve
	case ed25519.PublicKey:
		return spec.family == familyEd25519 && len(k) == ed25519.PublicKeySize
	case []byte:
		return spec.family == familyHMAC && len(k) >= spec.minKey
	}
	return false
}

// checkStaticKeys validates JWTConfig.StaticKeys against the allow-list and
// returns a copy usable by keyFits. Each key must be usable with at least
// one allowed algorithm.
func checkStaticKeys(keys map[string]crypto.PublicKey, algs []string) (map[string]any, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(keys))
	for kid, key := range keys {
		switch k := key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		case []byte:
			key = append([]byte(nil), k...) // the caller may reuse its slice
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return nil, errors.New("smartauth: jwt verifier: a static key is a private key; give its public key")
		default:
			return nil, fmt.Errorf("smartauth: jwt verifier: static key of unsupported type %T", key)
		}
		usable := false
		for _, alg := range algs {
			if spec, ok := lookupAlg(alg); ok && keyFits(spec, key) {
				usable = true
				break
			}
		}
		if !usable {
			if _, isHMAC := key.([]byte); isHMAC {
				return nil, errors.New("smartauth: jwt verifier: an HMAC static key needs an HS* algorithm in Algorithms and at least as many bytes as the hash (32 for HS256)")
			}
			return nil, errors.New("smartauth: jwt verifier: a static key fits none of the allowed algorithms (RSA keys need 2048 bits, EC keys P-256, P-384 or P-521)")
		}
		out[kid] = key
	}
	return out, nil
}
