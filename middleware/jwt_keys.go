package middleware

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
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
	minKey int            // HS*: minimum key length in bytes (the hash length, RFC 7518 §3.2)
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
// spec.minKey bytes long: the hash length, or 1 with InsecureLauncherCompat.
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

// allowedAlg is an algorithm of a verifier's allow-list.
type allowedAlg struct {
	spec   algSpec
	method jwt.SigningMethod // golang-jwt's implementation, which verifies signatures
}

// allowedAlgs returns the allow-list for algs: every one must be supported
// and not "none". With insecureHMAC, HMAC secrets of any non-zero length
// fit the HS* algorithms.
func allowedAlgs(algs []string, insecureHMAC bool) (map[string]allowedAlg, error) {
	out := make(map[string]allowedAlg, len(algs))
	for _, alg := range algs {
		if strings.EqualFold(alg, "none") {
			return nil, errors.New(`smartauth: jwt verifier: alg "none" is never accepted`)
		}
		spec, ok := lookupAlg(alg)
		method := jwt.GetSigningMethod(alg)
		if !ok || method == nil {
			return nil, fmt.Errorf("smartauth: jwt verifier: unsupported algorithm %q", alg)
		}
		if spec.family == familyHMAC && insecureHMAC {
			spec.minKey = 1
		}
		out[alg] = allowedAlg{spec: spec, method: method}
	}
	return out, nil
}

// checkKeys validates JWTConfig.StaticKeys and HMACSecrets against the
// allow-list and returns them merged by kid (copies: the caller may reuse
// its slices). Each key must fit at least one allowed algorithm.
func checkKeys(static map[string]crypto.PublicKey, secrets map[string][]byte, algs map[string]allowedAlg) (map[string]any, error) {
	if len(static)+len(secrets) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(static)+len(secrets))
	for kid, key := range static {
		switch key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		case []byte:
			return nil, errors.New("smartauth: jwt verifier: StaticKeys holds public keys; give HMAC secrets in HMACSecrets")
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return nil, errors.New("smartauth: jwt verifier: a static key is a private key; give its public key")
		default:
			return nil, fmt.Errorf("smartauth: jwt verifier: static key of unsupported type %T", key)
		}
		if !fitsAnyAlg(key, algs) {
			return nil, errors.New("smartauth: jwt verifier: a static key fits none of the allowed algorithms (RSA keys need 2048 bits, EC keys P-256, P-384 or P-521)")
		}
		out[kid] = key
	}
	for kid, secret := range secrets {
		if _, dup := out[kid]; dup {
			return nil, fmt.Errorf("smartauth: jwt verifier: kid %q names both a static key and an HMAC secret", kid)
		}
		key := bytes.Clone(secret)
		if !fitsAnyAlg(key, algs) {
			return nil, errors.New("smartauth: jwt verifier: an HMAC secret needs an HS* algorithm in Algorithms and at least as many bytes as its hash (32 for HS256, RFC 7518 §3.2)")
		}
		out[kid] = key
	}
	return out, nil
}

func fitsAnyAlg(key any, algs map[string]allowedAlg) bool {
	for _, a := range algs {
		if keyFits(a.spec, key) {
			return true
		}
	}
	return false
}
