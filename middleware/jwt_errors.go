package middleware

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
	errMalformedPayload   = newVerifyError(ErrMalformedToken, "the payload is not a JSON object")
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
