package authserver

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
)

// This file reads key set files in their PEM form: one PEM block per key,
// PKCS #8 ("PRIVATE KEY"), PKCS #1 ("RSA PRIVATE KEY") or SEC 1 ("EC
// PRIVATE KEY"), unencrypted, with optional headers kid, alg, status and
// retire_after:
//
//	-----BEGIN PRIVATE KEY-----
//	kid: 2025-06
//	status: active
//
//	MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg...
//	-----END PRIVATE KEY-----

// pemKeyHeaders are the headers a key block may have.
var pemKeyHeaders = []string{"kid", "alg", "status", "retire_after"}

// parsePEMKeySet parses a key set file in PEM form. Text between blocks is
// ignored, but every "-----BEGIN" must start a block that decodes, so that
// a damaged block is an error rather than a key silently left out.
func parsePEMKeySet(data []byte) ([]ManagedKey, error) {
	var keys []ManagedKey
	rest := data
	for i := 0; ; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		k, err := parsePEMKey(block)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d (kid %q): %w", ErrInvalidKeySet, i, block.Headers["kid"], err)
		}
		keys = append(keys, k)
	}
	if n := bytes.Count(data, []byte("-----BEGIN")); n != len(keys) {
		return nil, fmt.Errorf("%w: %d PEM blocks begin but %d decode", ErrInvalidKeySet, n, len(keys))
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no PEM block", ErrInvalidKeySet)
	}
	return keys, nil
}

// parsePEMKey reads one key block.
func parsePEMKey(block *pem.Block) (ManagedKey, error) {
	var k ManagedKey
	for name := range block.Headers {
		if !slices.Contains(pemKeyHeaders, name) {
			return k, fmt.Errorf("unknown PEM header %q (kid, alg, status and retire_after are known; encrypted keys are not supported)", name)
		}
	}
	header := func(name string) (string, error) { return block.Headers[name], nil }
	k.ID, k.Algorithm = block.Headers["kid"], block.Headers["alg"]
	if err := parseKeyMeta(&k, header); err != nil {
		return k, err
	}
	if len(block.Bytes) > 2*maxRSAKeyBits { // DER of an RSA key: about 4.5 bytes per modulus byte
		return k, errors.New("the PEM block is too large for a private key")
	}
	var parsed any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return k, fmt.Errorf("PEM block type %q is not a private key", block.Type)
	}
	if err != nil {
		return k, fmt.Errorf("%s: not a valid key", block.Type) // the parser's error is not needed
	}
	switch key := parsed.(type) {
	case *rsa.PrivateKey:
		if key.N.BitLen() > maxRSAKeyBits {
			return k, errRSAKeyTooLarge
		}
		k.Key = key
		if k.Algorithm == "" {
			k.Algorithm = "RS256"
		}
	case *ecdsa.PrivateKey:
		k.Key = key
		if c, ok := jwkCurves[key.Curve.Params().Name]; ok && k.Algorithm == "" {
			k.Algorithm = c.alg
		}
	case ed25519.PrivateKey:
		k.Key = key
		if k.Algorithm == "" {
			k.Algorithm = "EdDSA"
		}
	default:
		return k, errors.New("unsupported private key type")
	}
	return k, nil
}
