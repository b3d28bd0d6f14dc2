package tokenstore

import (
	"context"
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
// RedeemCode revokes grants that Store holds.
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
//     ParseRefreshToken gives for the presented code and the authenticated
//     client. On success the server checks the redirect_uri and the PKCE
//     code_verifier against the returned record (RFC 6749 §4.1.3, RFC 7636
//     §4.6) and only then creates the grant with ID GrantID
//     (Store.CreateGrant) and issues the tokens. A failed check leaves the
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
	// may be exchanged, marks it used and returns its record. See
	// RedeemRequest for the rules.
	RedeemCode(ctx context.Context, req RedeemRequest) (AuthorizationCode, error)

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
//  2. code already used (redeemed, or consumed by rule 3) -> the grant
//     GrantID is revoked at Now, ErrReused.
//     If no grant GrantID exists (the first redemption's caller has not
//     created it yet, or never will: its checks failed, or it issues no
//     refresh token), the store creates AuthorizationCode.RevokedGrant
//     in its place, so that the Store.CreateGrant the first caller is
//     about to make fails with ErrConflict and nothing is issued from
//     the code. The revocation is the same whether it comes from the
//     authenticated client or another one, and however long after
//     ExpiresAt it comes (within CodeRetention).
//  3. code issued to another client                     -> ErrClientMismatch,
//     and the code is marked used (UsedAt = Now): a code in another
//     client's hands has leaked, and must not be exchanged afterwards.
//  4. Now >= ExpiresAt                                   -> ErrExpired, no
//     change (an expired code can never be exchanged, so it need not be
//     consumed; presenting it again is ErrExpired again, never ErrReused,
//     as no grant can have been made from it)
//  5. otherwise: marked used (UsedAt = Now), the record returned -> success
//
// Exactly one of any number of concurrent redemptions of a code passes
// rule 5 (or rule 3), whatever their Now; every later one is rule 2. The
// caller checks redirect_uri and PKCE after a success: RFC 6749 §4.1.3
// wants them checked, RFC 6749 §4.1.2 wants a code used twice refused and
// the tokens issued from it revoked, and RFC 7636 §4.6 the verifier
// compared with the challenge.
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
	// recorded as the code's UsedAt, and as the RevokedAt of a grant
	// revoked because the code was presented again. It plays no part in
	// telling the first presentation from the others, which the store
	// decides by the order in which they reach it.
	Now time.Time
}
