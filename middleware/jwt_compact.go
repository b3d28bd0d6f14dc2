package middleware

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/smartauth/smartauth/middleware/internal/jsonobject"
)

// jwsEncoding decodes the parts of a JWS compact serialization: base64url
// without padding (RFC 7515 §2), with the unused bits of the last
// character zero, so that each part has exactly one encoding.
var jwsEncoding = base64.RawURLEncoding.Strict()

// compactJWS is a JWS compact serialization (RFC 7515 §7.1) taken apart.
type compactJWS struct {
	signingInput string // the encoded header and payload with their dot, as signed
	header       []byte // decoded
	payload      []byte // decoded, not yet parsed: only once the signature verifies
	signature    []byte
}

// splitJWS checks that token is header.payload.signature, each part
// base64url without padding, and decodes the parts. Every token it
// accepts is an RFC 6750 b64token.
func splitJWS(token string) (compactJWS, error) {
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		return compactJWS{}, errMalformedJWT
	}
	dot2 := strings.IndexByte(token[dot1+1:], '.')
	if dot2 < 0 {
		return compactJWS{}, errMalformedJWT
	}
	dot2 += dot1 + 1
	if strings.IndexByte(token[dot2+1:], '.') >= 0 || !isBase64URL(token[:dot1]) ||
		!isBase64URL(token[dot1+1:dot2]) || !isBase64URL(token[dot2+1:]) {
		return compactJWS{}, errMalformedJWT
	}
	var j compactJWS
	var err error
	if j.header, err = jwsEncoding.DecodeString(token[:dot1]); err != nil {
		return compactJWS{}, errMalformedJWT
	}
	if j.payload, err = jwsEncoding.DecodeString(token[dot1+1 : dot2]); err != nil {
		return compactJWS{}, errMalformedJWT
	}
	if j.signature, err = jwsEncoding.DecodeString(token[dot2+1:]); err != nil {
		return compactJWS{}, errMalformedJWT
	}
	j.signingInput = token[:dot2]
	return j, nil
}

// isBase64URL reports whether s has only characters of the base64url
// alphabet (base64 decoders skip CR and LF, which a token must not have).
func isBase64URL(s string) bool {
	var bad uint8
	for i := 0; i < len(s); i++ {
		bad |= notBase64URLChar[s[i]]
	}
	return bad == 0
}

// notBase64URLChar[c] is 0 for A-Z a-z 0-9 - _ and 1 for every other byte.
var notBase64URLChar = func() (t [256]uint8) {
	for c := range t {
		t[c] = 1
	}
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = 0
	}
	return t
}()

// jwsHeader is what the verifier reads of a JOSE header. As with
// encoding/json, a member that occurs twice counts with its last value.
// The header is read before the signature is checked, so nothing in it is
// decoded but strings: the rest is only looked at to be refused, in time
// linear in its size.
type jwsHeader struct {
	raw     string
	alg     headerString
	kid     headerString
	typ     headerString
	crit    string // the raw crit value; "" if absent
	hasCrit bool
}

// headerString is a header parameter that should be a string.
type headerString struct {
	value   string
	present bool // present, possibly not a string
	isStr   bool // present and a string
}

// parseHeader reads the members of a decoded JOSE header.
func parseHeader(b []byte) (jwsHeader, error) {
	if !json.Valid(b) {
		return jwsHeader{}, errMalformedJWT
	}
	h := jwsHeader{raw: string(b)}
	err := jsonobject.Members(h.raw, func(name, value string) error {
		var dst *headerString
		switch name {
		case "alg":
			dst = &h.alg
		case "kid":
			dst = &h.kid
		case "typ":
			dst = &h.typ
		case "crit":
			h.crit, h.hasCrit = value, true
			return nil
		default:
			return nil
		}
		*dst = headerString{present: true}
		if strings.HasPrefix(value, `"`) {
			s, err := jsonobject.Decode(value)
			dst.value, dst.isStr = s.(string), err == nil
			return err
		}
		return nil
	})
	if err != nil {
		return jwsHeader{}, errMalformedJWT
	}
	return h, nil
}

// critNames returns the names crit lists: errCritMalformed unless it is a
// non-empty array of non-empty strings.
func (h *jwsHeader) critNames() ([]string, error) {
	var names []string
	err := jsonobject.Elements(h.crit, func(value string) error {
		if !strings.HasPrefix(value, `"`) {
			return errCritMalformed
		}
		s, err := jsonobject.Decode(value)
		if err != nil || s == "" {
			return errCritMalformed
		}
		names = append(names, s.(string))
		return nil
	})
	if err != nil || len(names) == 0 {
		return nil, errCritMalformed
	}
	return names, nil
}

// names returns the set of the header's member names.
func (h *jwsHeader) names() map[string]bool {
	set := make(map[string]bool)
	_ = jsonobject.Members(h.raw, func(name, _ string) error {
		set[name] = true
		return nil
	})
	return set
}
