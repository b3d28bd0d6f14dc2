package authserver

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Token types for KeySet.Sign.
const (
	// TypeAccessToken is the typ of JWT access tokens (RFC 9068 §2.1).
	TypeAccessToken = "at+jwt"
	// TypeJWT is the typ of other JWTs, such as ID tokens.
	TypeJWT = "JWT"
)

// Sign returns a compact JWS of claims (any value encoding/json encodes as a
// JSON object) signed with the active key, with the JOSE header alg, kid and
// typ. Headers for TypeAccessToken and TypeJWT are built once per key.
func (ks *KeySet) Sign(typ string, claims any) (string, error) {
	return ks.state.Load().active.sign(typ, claims)
}

func (p *preparedKey) sign(typ string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("authserver: encoding claims: %w", err)
	}
	var header string
	switch typ {
	case TypeAccessToken:
		header = p.atHeader
	case TypeJWT:
		header = p.jwtHeader
	default:
		header = encodeHeader(p.alg, p.id, typ)
	}
	enc := base64.RawURLEncoding
	n := len(header) + 1 + enc.EncodedLen(len(payload))
	buf := make([]byte, n, n+1+enc.EncodedLen(p.sigLen))
	copy(buf, header)
	buf[len(header)] = '.'
	enc.Encode(buf[len(header)+1:], payload)
	sig, err := p.method.Sign(string(buf), p.key)
	if err != nil {
		return "", fmt.Errorf("authserver: signing with key %q: %w", p.id, err)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// encodeHeader returns the base64url encoding of a JOSE header.
func encodeHeader(alg, kid, typ string) string {
	h := struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ,omitempty"`
	}{alg, kid, typ}
	b, _ := json.Marshal(h) // strings only: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}
