package middleware

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// verifyError is an error of the JWT verifier: one of the package's
// sentinels plus a fixed detail. The detail never contains request data
// (token, kid, claim values), so the errors can be built once and returned
// without allocating.
type verifyError struct {
	sentinel error
	detail   string
}

func (e *verifyError) Error() string { return e.sentinel.Error() + ": " + e.detail }
func (e *verifyError) Unwrap() error { return e.sentinel }

func newVerifyError(sentinel error, detail string) *verifyError {
	return &verifyError{sentinel: sentinel, detail: detail}
}

// The JWT verifier's errors. They are never modified.
var (
	errTokenTooLarge      = newVerifyError(ErrTokenTooLarge, "token longer than MaxTokenSize")
	errEmptyToken         = newVerifyError(ErrMalformedToken, "empty token")
	errMalformedJWT       = newVerifyError(ErrMalformedToken, "not a well-formed JWS compact serialization")
	errMalformedClaims    = newVerifyError(ErrMalformedToken, "a registered claim has the wrong type")
	errNoAlg              = newVerifyError(ErrMalformedToken, "no alg header")
	errKidNotString       = newVerifyError(ErrMalformedToken, "kid header is not a string")
	errAlgNotAllowed      = newVerifyError(ErrAlgorithmNotAllowed, "alg not in the allow-list")
	errKeyAlgMismatch     = newVerifyError(ErrAlgorithmNotAllowed, "the key for the kid does not fit the alg")
	errUnknownKey         = newVerifyError(ErrUnknownKey, "no verification key for the token's kid")
	errBadSignature       = newVerifyError(ErrBadSignature, "signature does not verify")
	errBadType            = newVerifyError(ErrBadType, "typ header is not the required type")
	errCritUnsupported    = newVerifyError(ErrUnsupportedCritical, "crit names a header parameter that is not understood")
	errCritMalformed      = newVerifyError(ErrUnsupportedCritical, "crit header is malformed")
	errTokenExpired       = newVerifyError(ErrTokenExpired, "exp is in the past")
	errNoExpiry           = newVerifyError(ErrTokenExpired, "exp is missing")
	errTokenNotYetValid   = newVerifyError(ErrTokenNotYetValid, "nbf is in the future")
	errIssuedInFuture     = newVerifyError(ErrTokenNotYetValid, "iat is in the future")
	errBadIssuer          = newVerifyError(ErrBadIssuer, "iss is not a trusted issuer")
	errBadAudience        = newVerifyError(ErrBadAudience, "aud does not contain this server")
	errEmptyAudienceValue = newVerifyError(ErrBadAudience, "AudienceFunc returned an empty audience")
)

// mapParseError translates an error of jwt.Parser.ParseWithClaims into one
// of ours. tok is what the parser returned with the error (possibly nil);
// allowed reports whether an alg is in the allow-list.
func mapParseError(tok *jwt.Token, err error, allowed func(alg string) bool) error {
	// Errors returned by our keyfunc (header checks, key lookup) are ours.
	var ve *verifyError
	if errors.As(err, &ve) {
		return ve
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errMalformedJWT
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		switch {
		case errors.Is(err, jwt.ErrInvalidType):
			return errMalformedClaims
		case errors.Is(err, jwt.ErrTokenExpired):
			return errTokenExpired
		case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
			return errNoExpiry // exp is the only claim we make the parser require
		case errors.Is(err, jwt.ErrTokenNotValidYet):
			return errTokenNotYetValid
		case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return errIssuedInFuture
		}
		return errMalformedClaims
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		// The parser reports an alg outside WithValidMethods as an
		// invalid signature; tell the two apart.
		if tok != nil {
			if alg, _ := tok.Header["alg"].(string); !allowed(alg) {
				return errAlgNotAllowed
			}
		}
		return errBadSignature
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// Unknown ("signing method unavailable") or missing alg; keyfunc
		// errors were handled above.
		if tok != nil {
			if _, ok := tok.Header["alg"].(string); ok {
				return errAlgNotAllowed
			}
		}
		return errNoAlg
	}
	return errMalformedJWT
}
