package authserver

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// This file reads and writes key set files in their JWK Set form: an RFC
// 7517 JWK Set whose keys carry their private members (RFC 7518 §6), plus
// the members "status" and "retire_after" of this package.

// maxRSAKeyBits bounds the RSA keys of key set files, and so the work of
// checking them.
const maxRSAKeyBits = 8192

var errRSAKeyTooLarge = errors.New("RSA keys of more than 8192 bits are not supported")

// jwkCurves are the EC curves of signing keys, by JWK crv, with their alg.
var jwkCurves = map[string]struct {
	curve elliptic.Curve
	alg   string
}{
	"P-256": {elliptic.P256(), "ES256"},
	"P-384": {elliptic.P384(), "ES384"},
	"P-521": {elliptic.P521(), "ES512"},
}

// jwkMembers are the members of one JWK, read with their exact
// (case-sensitive) names.
type jwkMembers map[string]json.RawMessage

// str returns the string member name, "" if it is absent, or an error if
// it is not a string. The error never holds the value.
func (m jwkMembers) str(name string) (string, error) {
	raw, ok := m[name]
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%q is not a string", name)
	}
	return s, nil
}

// bytes returns the base64url-decoded member name, which is required.
func (m jwkMembers) bytes(name string) ([]byte, error) {
	s, err := m.str(name)
	if err != nil {
		return nil, err
	}
	if s == "" {
		return nil, fmt.Errorf("%q is missing", name)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not unpadded base64url", name)
	}
	return b, nil
}

// bigInt returns the member name as a positive integer.
func (m jwkMembers) bigInt(name string) (*big.Int, error) {
	b, err := m.bytes(name)
	if err != nil {
		return nil, err
	}
	n := new(big.Int).SetBytes(b)
	if n.Sign() == 0 {
		return nil, fmt.Errorf("%q is zero", name)
	}
	return n, nil
}

// parseJWKKeySet parses a key set file in JWK Set form.
func parseJWKKeySet(data []byte) ([]ManagedKey, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalidKeySet) // the syntax error may quote key material
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(doc["keys"], &raws); err != nil || raws == nil {
		return nil, fmt.Errorf("%w: \"keys\" must be an array", ErrInvalidKeySet)
	}
	keys := make([]ManagedKey, 0, len(raws))
	for i, raw := range raws {
		var m jwkMembers
		if err := json.Unmarshal(raw, &m); err != nil || m == nil {
			return nil, fmt.Errorf("%w: key %d is not a JSON object", ErrInvalidKeySet, i)
		}
		k, err := parsePrivateJWK(m)
		if err != nil {
			kid, _ := m.str("kid")
			return nil, fmt.Errorf("%w: key %d (kid %q): %w", ErrInvalidKeySet, i, kid, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// parsePrivateJWK reads one private JWK with its status.
func parsePrivateJWK(m jwkMembers) (ManagedKey, error) {
	var k ManagedKey
	var err error
	kty, err := m.str("kty")
	if err != nil {
		return k, err
	}
	if k.ID, err = m.str("kid"); err != nil {
		return k, err
	}
	if k.Algorithm, err = m.str("alg"); err != nil {
		return k, err
	}
	if use, err := m.str("use"); err != nil || (use != "" && use != "sig") {
		return k, errors.New(`"use" must be "sig"`)
	}
	if raw, ok := m["key_ops"]; ok {
		var ops []string
		if json.Unmarshal(raw, &ops) != nil || !slices.Contains(ops, "sign") {
			return k, errors.New(`"key_ops" must contain "sign"`)
		}
	}
	if err := parseKeyMeta(&k, m.str); err != nil {
		return k, err
	}
	switch kty {
	case "RSA":
		err = parseRSAJWK(&k, m)
	case "EC":
		err = parseECJWK(&k, m)
	case "OKP":
		err = parseOKPJWK(&k, m)
	case "oct":
		if k.Secret, err = m.bytes("k"); err == nil && k.Algorithm == "" {
			err = errors.New(`an "oct" key needs "alg"`)
		}
	default:
		err = errors.New(`"kty" must be RSA, EC, OKP or oct`)
	}
	return k, err
}

// parseKeyMeta reads the status and retire_after of a key (a JWK's
// members or a PEM block's headers). An absent status is "active".
func parseKeyMeta(k *ManagedKey, get func(string) (string, error)) error {
	status, err := get("status")
	if err != nil {
		return err
	}
	k.Status = KeyStatus(status)
	if status == "" {
		k.Status = KeyActive
	}
	retire, err := get("retire_after")
	if err != nil || retire == "" {
		return err
	}
	if k.RetireAfter, err = time.Parse(time.RFC3339, retire); err != nil {
		return errors.New(`"retire_after" is not an RFC 3339 time`)
	}
	return nil
}

func parseRSAJWK(k *ManagedKey, m jwkMembers) error {
	if _, ok := m["oth"]; ok {
		return errors.New("multi-prime RSA keys are not supported")
	}
	var ints [5]*big.Int
	for i, name := range []string{"n", "e", "d", "p", "q"} {
		var err error
		if ints[i], err = m.bigInt(name); err != nil {
			return err
		}
	}
	if ints[0].BitLen() > maxRSAKeyBits {
		return errRSAKeyTooLarge
	}
	if !ints[1].IsInt64() || ints[1].Int64() > 1<<31-1 {
		return errors.New(`"e" is too large`)
	}
	key := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: ints[0], E: int(ints[1].Int64())},
		D:         ints[2],
		Primes:    []*big.Int{ints[3], ints[4]},
	}
	if err := key.Validate(); err != nil {
		return errors.New("the RSA private key is not consistent")
	}
	key.Precompute()
	if k.Algorithm == "" {
		k.Algorithm = "RS256"
	}
	k.Key = key
	return nil
}

func parseECJWK(k *ManagedKey, m jwkMembers) error {
	crv, err := m.str("crv")
	if err != nil {
		return err
	}
	c, ok := jwkCurves[crv]
	if !ok {
		return errors.New(`"crv" must be P-256, P-384 or P-521`)
	}
	d, err := m.bytes("d")
	if err != nil {
		return err
	}
	key, err := ecdsa.ParseRawPrivateKey(c.curve, d)
	if err != nil {
		return errors.New(`"d" is not a private key of the curve`)
	}
	x, err := m.bytes("x")
	if err != nil {
		return err
	}
	y, err := m.bytes("y")
	if err != nil {
		return err
	}
	pub, err := key.PublicKey.Bytes()
	if err != nil || !bytes.Equal(pub, slices.Concat([]byte{4}, x, y)) {
		return errors.New(`"x" and "y" are not the public key of "d"`)
	}
	if k.Algorithm == "" {
		k.Algorithm = c.alg
	}
	k.Key = key
	return nil
}

func parseOKPJWK(k *ManagedKey, m jwkMembers) error {
	if crv, err := m.str("crv"); err != nil || crv != "Ed25519" {
		return errors.New(`"crv" must be Ed25519`)
	}
	d, err := m.bytes("d")
	if err != nil {
		return err
	}
	if len(d) != ed25519.SeedSize {
		return errors.New(`"d" is not an Ed25519 private key`)
	}
	key := ed25519.NewKeyFromSeed(d)
	x, err := m.bytes("x")
	if err != nil {
		return err
	}
	if !bytes.Equal(key.Public().(ed25519.PublicKey), x) {
		return errors.New(`"x" is not the public key of "d"`)
	}
	if k.Algorithm == "" {
		k.Algorithm = "EdDSA"
	}
	k.Key = key
	return nil
}

// privateJWK is the JSON form of a key written by MarshalKeySet.
type privateJWK struct {
	Kty         string `json:"kty"`
	Kid         string `json:"kid"`
	Alg         string `json:"alg"`
	Use         string `json:"use"`
	Status      string `json:"status"`
	RetireAfter string `json:"retire_after,omitempty"`
	Crv         string `json:"crv,omitempty"`
	X           string `json:"x,omitempty"`
	Y           string `json:"y,omitempty"`
	N           string `json:"n,omitempty"`
	E           string `json:"e,omitempty"`
	D           string `json:"d,omitempty"`
	P           string `json:"p,omitempty"`
	Q           string `json:"q,omitempty"`
	DP          string `json:"dp,omitempty"`
	DQ          string `json:"dq,omitempty"`
	QI          string `json:"qi,omitempty"`
	K           string `json:"k,omitempty"`
}

// MarshalKeySet returns the key set file of keys in JWK Set form (see
// ParseKeySet), indented for editing: each key with kid (its thumbprint if
// ID is zero), alg, use "sig", status, retire_after if retired, and its
// public and private members. The document holds private keys: write it
// with mode 0600. Keys are checked as SetKeys checks them (HMAC keys
// allowed), except that retired keys past their time are kept.
func MarshalKeySet(keys []ManagedKey) ([]byte, error) {
	check := &KeySet{now: func() time.Time { return time.Time{} }, allowHMAC: true}
	if _, err := check.buildState(keys); err != nil {
		return nil, err
	}
	doc := struct {
		Keys []privateJWK `json:"keys"`
	}{Keys: make([]privateJWK, 0, len(keys))}
	b64 := base64.RawURLEncoding.EncodeToString
	for i, k := range keys {
		p, err := check.prepare(k.SigningKey)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d (kid %q): %w", ErrInvalidKeySet, i, k.ID, err)
		}
		j := privateJWK{Kid: p.id, Alg: p.alg, Use: "sig", Status: string(k.Status)}
		if !k.RetireAfter.IsZero() {
			j.RetireAfter = k.RetireAfter.UTC().Format(time.RFC3339)
		}
		switch key := k.Key.(type) {
		case nil:
			j.Kty, j.K = "oct", b64(k.Secret)
		case *rsa.PrivateKey:
			if len(key.Primes) != 2 {
				return nil, fmt.Errorf("%w: key %d (kid %q): multi-prime RSA keys are not supported", ErrInvalidKeySet, i, p.id)
			}
			key.Precompute()
			j.Kty, j.N, j.E, j.D = "RSA", b64(key.N.Bytes()), b64(big.NewInt(int64(key.E)).Bytes()), b64(key.D.Bytes())
			j.P, j.Q = b64(key.Primes[0].Bytes()), b64(key.Primes[1].Bytes())
			j.DP, j.DQ, j.QI = b64(key.Precomputed.Dp.Bytes()), b64(key.Precomputed.Dq.Bytes()), b64(key.Precomputed.Qinv.Bytes())
		case *ecdsa.PrivateKey:
			d, err := key.Bytes()
			if err != nil {
				return nil, fmt.Errorf("%w: key %d (kid %q): invalid EC key", ErrInvalidKeySet, i, p.id)
			}
			pub, _ := key.PublicKey.Bytes() // valid: Bytes succeeded
			n := (len(pub) - 1) / 2
			j.Kty, j.Crv, j.X, j.Y, j.D = "EC", key.Curve.Params().Name, b64(pub[1:1+n]), b64(pub[1+n:]), b64(d)
		case ed25519.PrivateKey:
			j.Kty, j.Crv, j.X, j.D = "OKP", "Ed25519", b64(key.Public().(ed25519.PublicKey)), b64(key.Seed())
		default:
			return nil, fmt.Errorf("%w: key %d (kid %q): unsupported key type %T", ErrInvalidKeySet, i, p.id, k.Key)
		}
		doc.Keys = append(doc.Keys, j)
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("authserver: encoding key set: %w", err)
	}
	return []byte(buf.String()), nil
}
