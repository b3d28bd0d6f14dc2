package tokenstore

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"time"
)

// CodeRetention is how long after its ExpiresAt a store keeps the record
// of an authorization code, used or not, so that a code presented again
// after it expired is still recognised as reused (and the grant made from
// it revoked) rather than unknown. Stores may keep records longer; they
// remove them at ExpiresAt + CodeRetention at the earliest.
const CodeRetention = 10 * time.Minute

// CodeStore keeps OAuth authorization codes and SMART EHR launches, hashed.
// It is separate from Store so that Store implementations that serve only
// refresh tokens need not implement it; the stores of this module
// (MemoryStore, redisstore, pgstore) implement both, on the same records:
// RedeemCode creates, and revokes, grants that Store serves.
//
// As for Store, every method is one atomic operation, the caller passes
// the times (its clock decides expiry, never the order of operations, which
// the store decides by the order in which it receives them), times are kept
// to one millisecond or better, implementations are safe for concurrent
// use by any number of goroutines and processes, and errors are either the
// sentinels of this package, facts about the records, or failures of the
// store, never wrapped into a sentinel.
//
// Codes and launches are found by the Hash of their value: the value is
// never stored. A code value is made by NewRefreshToken(GrantID) so that it
// names the grant it will create (stores that keep each family together,
// such as redisstore on a Redis Cluster, keep the code with it); a launch
// value is random (NewToken).
//
// The authorization server uses it so:
//
//  1. /authorize: the host's login and consent succeed; the server picks
//     the grant ID (NewID), makes the code value with
//     NewRefreshToken(grantID) and stores the code with CreateCode, with
//     ExpiresAt at most 60 seconds after IssuedAt (the store does not
//     enforce a maximum lifetime; the server does).
//  2. /token, grant_type=authorization_code: RedeemCode, with the TokenRef
//     ParseRefreshToken gives for the presented code, the authenticated
//     client, the request's redirect_uri, the S256 challenge of its
//     code_verifier and a RedeemRequest.Grant that sets the grant's
//     lifetime and first refresh token. The store checks the client, the
//     expiry, the redirect URI and the challenge (RFC 6749 §4.1.3, RFC 7636
//     §4.6), marks the code used and creates the grant with ID GrantID
//     and its first refresh token, in one atomic operation; the server
//     issues the tokens of the returned grant. A failed check leaves the
//     code consumed: single use means a single attempt.
//  3. EHR launch: the EHR registers the launch context with CreateLaunch
//     and hands the launch value to the app; the authorization endpoint
//     takes it back with ConsumeLaunch, once, and checks Launch.ClientID.
type CodeStore interface {
	// CreateCode stores a new authorization code. It returns ErrConflict,
	// and writes nothing, if a code with the same Hash or the same GrantID
	// exists, or a grant with ID c.GrantID exists: each code creates a
	// grant of its own. (A store that keeps each family apart, redisstore,
	// checks the Hash within the family c.GrantID names only: a clash
	// across families takes a SHA-256 collision, since the value names its
	// family.) c.GrantID must not be empty; c.UsedAt must be zero.
	//
	// The record is kept at least until c.ExpiresAt + CodeRetention.
	CreateCode(ctx context.Context, c AuthorizationCode) error

	// RedeemCode presents a code on behalf of a client and, if the code
	// may be exchanged, marks it used and creates the grant it names, with
	// its first refresh token, in the same atomic operation. See
	// RedeemRequest for the rules.
	RedeemCode(ctx context.Context, req RedeemRequest) (RedeemResult, error)

	// CreateLaunch stores a new EHR launch. It returns ErrConflict, and
	// writes nothing, if a launch with the same Hash exists. The record is
	// kept at least until l.ExpiresAt.
	CreateLaunch(ctx context.Context, l Launch) error

	// ConsumeLaunch takes the launch ref names, once: the first call
	// consumes it, whatever its state, and every later one gets
	// ErrNotFound, exactly as for an unknown launch (a launch is not a
	// credential: nothing was issued from it that a second presentation
	// should revoke, and the app's answer is the same). A launch that had
	// expired at now is consumed too and reported as ErrExpired. Of any
	// number of concurrent calls, exactly one gets the launch. The caller
	// checks Launch.ClientID. ref.GrantID is ignored: launch values name
	// no grant.
	ConsumeLaunch(ctx context.Context, ref TokenRef, now time.Time) (Launch, error)
}

// RedeemRequest is the input of CodeStore.RedeemCode, whose rules are,
// checked in this order, atomically:
//
//  1. code unknown (never stored, removed after ExpiresAt + CodeRetention,
//     or Code.GrantID is not its GrantID)              -> ErrNotFound
//  2. code already used (redeemed, or consumed by rule 3 or 5) -> the
//     grant GrantID is revoked at Now, ErrReused.
//     The grant exists if the code was redeemed (rule 6 creates it). If
//     it does not (the code was consumed by a refused presentation), the
//     store creates AuthorizationCode.RevokedGrant in its place, so that
//     the ID can never be given to a grant (Store.CreateGrant meets it:
//     ErrConflict) and whoever checks an access token naming it finds it
//     revoked. The revocation is the same whether it comes from the
//     authenticated client or another one, and however long after
//     ExpiresAt it comes (within CodeRetention).
//  3. code issued to another client                     -> ErrClientMismatch,
//     and the code is marked used (UsedAt = Now): a code in another
//     client's hands has leaked, and must not be exchanged afterwards.
//  4. Now >= ExpiresAt                                   -> ErrExpired, no
//     change (an expired code can never be exchanged, so it need not be
//     consumed; presenting it again is ErrExpired again, never ErrReused,
//     as no grant can have been made from it)
//  5. RedirectURI does not match the code's (see RedirectURI)
//     -> ErrRedirectMismatch; else CodeChallenge is not the code's
//     -> ErrChallengeMismatch. Either way the code is marked used: single
//     use means a single attempt (RFC 6749 §4.1.2), so a code presented
//     with the wrong binding cannot be presented again with the right one.
//  6. otherwise: the code is marked used (UsedAt = Now) and the grant
//     Grant(code) describes is created, with its first refresh token if
//     it has one (see Result) -> success, the RedeemResult. If a grant
//     with ID GrantID exists (a caller created it outside the code flow),
//     or a token of that grant with hash GrantTemplate.RefreshToken, the
//     answer is ErrConflict and nothing changes. (The token's value names
//     the grant, so a clash with another grant's token would take a
//     SHA-256 collision; stores need not look for one.)
//
// Exactly one of any number of concurrent redemptions of a code passes
// rule 6 (or 3 or 5), whatever their Now; every later one is rule 2. So
// the first presentation that reaches the store gets the grant and its
// tokens, whatever the others do, and every later presentation revokes
// them: RFC 6749 §4.1.2 wants a code used twice refused and the tokens
// issued from it revoked, RFC 6749 §4.1.3 the redirect_uri and RFC 7636
// §4.6 the verifier checked, and nothing issued when they fail.
type RedeemRequest struct {
	// Code is the presented code: ParseRefreshToken of its value. A
	// TokenRef whose GrantID is empty or is not the code's GrantID names
	// no code (every code value names its grant), so RedeemCode answers
	// ErrNotFound for it.
	Code TokenRef
	// ClientID is the authenticated client (for a public client, the
	// client_id of the request).
	ClientID string
	// Now is the caller's time of the request. It decides expiry and is
	// recorded as the code's UsedAt, the IssuedAt of the grant and of its
	// first refresh token, and the RevokedAt of a grant revoked because
	// the code was presented again. It plays no part in telling the first
	// presentation from the others, which the store decides by the order
	// in which they reach it.
	Now time.Time
	// RedirectURI is the redirect_uri of the token request, "" if it has
	// none. It matches a code whose RedirectURI is not empty (the
	// authorization request named one) if it is that URI, byte for byte
	// (RFC 6749 §4.1.3). It matches a code whose RedirectURI is empty (the
	// authorization request named none, and RFC 6749 §4.1.3 then requires
	// none) if it is empty or one of ClientRedirectURIs.
	RedirectURI string
	// ClientRedirectURIs are the redirect URIs registered for the client:
	// the only ones a token request may name for a code whose
	// authorization request named none (see RedirectURI).
	ClientRedirectURIs []string
	// CodeChallenge is the PKCE S256 code_challenge of the code_verifier
	// of the token request: base64url (no padding) of its SHA-256
	// (RFC 7636 §4.6). It matches if it is the code's CodeChallenge, byte
	// for byte. The caller refuses a missing or malformed code_verifier
	// before it calls RedeemCode, without consuming the code.
	CodeChallenge string
	// Grant returns what the grant created from the code needs besides
	// the code's own fields: its lifetime, kind and first refresh token,
	// which the caller decides from the code's Scope (offline_access,
	// online_access). It must not be nil. The store calls it at most once
	// per RedeemCode, with the code's record as read, when that record may
	// be redeemed: a store that must read the code before its atomic step
	// (redisstore, pgstore) calls it in between, and that step may still
	// answer otherwise if a concurrent presentation reached the store
	// first. It must be quick, depend only on its argument and on what the
	// caller decided before the call, and must not call the store (a
	// MemoryStore calls it holding its lock).
	Grant func(c AuthorizationCode) GrantTemplate
}

// GrantTemplate is what RedeemCode needs, beyond the code's record, to
// create the grant of a redeemed code: see RedeemRequest.Result for the
// grant and token it makes.
type GrantTemplate struct {
	// ExpiresAt is the grant's absolute expiry.
	ExpiresAt time.Time
	// IdleTimeout is the grant's idle timeout; zero means none.
	IdleTimeout time.Duration
	// Kind is KindOffline or KindOnline.
	Kind Kind
	// RefreshToken is the Hash of the grant's first refresh token, whose
	// value must be made by NewRefreshToken(code's GrantID) so that it
	// names the grant (redisstore keeps it with the family, found by the
	// name only). The zero Hash means the grant gets no refresh token (no
	// offline_access or online_access): it still exists, so that access
	// tokens naming it can be checked for revocation.
	RefreshToken Hash
}

// RedeemResult is the output of a successful CodeStore.RedeemCode.
type RedeemResult struct {
	// Code is the code's record, UsedAt = RedeemRequest.Now.
	Code AuthorizationCode
	// Grant is the grant created from the code.
	Grant Grant
	// Token is the grant's first refresh token (generation 1); its Hash
	// is zero if GrantTemplate.RefreshToken was.
	Token RefreshToken
}

// Check reports which of rules 2 to 5 of RedeemCode applies to the code
// c, as read, presented by r: ErrReused, ErrClientMismatch, ErrExpired,
// ErrRedirectMismatch or ErrChallengeMismatch; nil if c may be redeemed
// (rule 6). It changes nothing: stores use it to apply the rules, under
// whatever makes their operation atomic.
func (r RedeemRequest) Check(c AuthorizationCode) error {
	switch {
	case !c.UsedAt.IsZero():
		return ErrReused
	case c.ClientID != r.ClientID:
		return ErrClientMismatch
	case !r.Now.Before(c.ExpiresAt):
		return ErrExpired
	case !r.redirectMatches(c.RedirectURI):
		return ErrRedirectMismatch
	case subtle.ConstantTimeCompare([]byte(r.CodeChallenge), []byte(c.CodeChallenge)) != 1:
		return ErrChallengeMismatch
	}
	return nil
}

// redirectMatches reports whether r.RedirectURI matches a code whose
// RedirectURI is uri (see RedeemRequest.RedirectURI).
func (r RedeemRequest) redirectMatches(uri string) bool {
	if uri != "" {
		return r.RedirectURI == uri
	}
	return r.RedirectURI == "" || slices.Contains(r.ClientRedirectURIs, r.RedirectURI)
}

// Result returns what a successful redemption of c by r makes with the
// template t (rule 6): c used at r.Now; the grant with ID c.GrantID,
// c's client, subject, user, scope and launch context, issued at r.Now,
// with t's ExpiresAt, IdleTimeout and Kind; and, unless t.RefreshToken is
// zero, its first refresh token: generation 1, issued at r.Now, expiring
// at the grant's NextExpiry(r.Now). Stores create exactly these records.
func (r RedeemRequest) Result(c AuthorizationCode, t GrantTemplate) RedeemResult {
	c.UsedAt = r.Now
	g := Grant{
		ID:            c.GrantID,
		ClientID:      c.ClientID,
		Subject:       c.Subject,
		FHIRUser:      c.FHIRUser,
		Scope:         c.Scope,
		LaunchContext: bytes.Clone(c.LaunchContext),
		IssuedAt:      r.Now,
		ExpiresAt:     t.ExpiresAt,
		IdleTimeout:   t.IdleTimeout,
		Kind:          t.Kind,
	}
	res := RedeemResult{Code: c, Grant: g}
	if !t.RefreshToken.IsZero() {
		res.Token = RefreshToken{
			Hash:       t.RefreshToken,
			GrantID:    g.ID,
			Generation: 1,
			IssuedAt:   r.Now,
			ExpiresAt:  g.NextExpiry(r.Now),
		}
	}
	return res
}

// errNilGrant is the programming error of a RedeemRequest without Grant.
var errNilGrant = errors.New("tokenstore: RedeemRequest.Grant is nil")

// Validate reports the programming errors RedeemCode refuses (a nil
// Grant) as a plain error, never a record error. Stores call it first.
func (r RedeemRequest) Validate() error {
	if r.Grant == nil {
		return errNilGrant
	}
	return nil
}
