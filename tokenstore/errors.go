package tokenstore

import "errors"

// Sentinel errors describing the state of records. Test for them with
// errors.Is. A store failure is never reported as one of these.
var (
	// ErrNotFound: no record with that hash, ID or key (or it was removed
	// after expiring), or a launch that was already consumed.
	ErrNotFound = errors.New("tokenstore: not found")
	// ErrExpired: the refresh token or its grant, the authorization code
	// or the launch has expired.
	ErrExpired = errors.New("tokenstore: expired")
	// ErrReused: an already rotated (or superseded) refresh token was
	// presented again, and the presentation was not a retry (see the rules
	// of Store.Rotate). Rotate has revoked the whole family. Also: an
	// authorization code was presented again; RedeemCode has revoked the
	// grant made from it (see RedeemRequest).
	ErrReused = errors.New("tokenstore: refresh token or code reused")
	// ErrRevoked: the grant (token family) has been revoked.
	ErrRevoked = errors.New("tokenstore: grant revoked")
	// ErrClientMismatch: the token belongs to a grant of another client,
	// or the code was issued to another client.
	ErrClientMismatch = errors.New("tokenstore: token belongs to another client")
	// ErrRedirectMismatch: the redirect_uri presented with an
	// authorization code is not the one the code is bound to (see
	// RedeemRequest.RedirectURI); RedeemCode has consumed the code.
	ErrRedirectMismatch = errors.New("tokenstore: code bound to another redirect URI")
	// ErrChallengeMismatch: the PKCE code_verifier presented with an
	// authorization code does not match the code's code_challenge;
	// RedeemCode has consumed the code.
	ErrChallengeMismatch = errors.New("tokenstore: code bound to another code challenge")
	// ErrReplayed: UseOnce saw the key before and its record has not
	// expired.
	ErrReplayed = errors.New("tokenstore: one-time value replayed")
	// ErrConflict: CreateGrant found a grant with the same ID or a token
	// with the same hash, Rotate found a token with the hash Next,
	// CreateCode found a code with the same hash or grant ID or a grant
	// with that ID, RedeemCode a grant with the code's grant ID or a token
	// with the hash of its first refresh token, or CreateLaunch a launch
	// with the same hash.
	ErrConflict = errors.New("tokenstore: record already exists")
)

// IsRecordError reports whether err is one of the sentinel errors above,
// that is a fact about the records rather than a failure of the store.
func IsRecordError(err error) bool {
	for _, s := range [...]error{ErrNotFound, ErrExpired, ErrReused, ErrRevoked, ErrClientMismatch, ErrRedirectMismatch, ErrChallengeMismatch, ErrReplayed, ErrConflict} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
