package tokenstore

import (
	"context"
	"time"
)

// Store persists grants (token families) and the hashed refresh tokens that
// belong to them.
//
// Every method that changes state is one atomic operation, so that a remote
// implementation can perform it in a single round trip (a Redis script) or a
// single short transaction (PostgreSQL). Implementations must be safe for
// concurrent use by multiple goroutines and, for shared stores, by multiple
// processes.
//
// Times are always passed in by the caller (the Now fields and now
// parameters) so that the caller's clock, not the store's, decides expiry.
// Implementations keep times to one millisecond or better (PostgreSQL keeps
// microseconds; the storetest suite uses millisecond-aligned times) and
// compare them at their stored precision.
//
// Errors: the sentinel errors of this package (ErrNotFound, ErrExpired,
// ErrReused, ErrRevoked, ErrClientMismatch, ErrReplayed, ErrConflict) report
// facts about the records. Any other error is a failure of the store itself
// (network, timeout, server down) and must never be returned as, or wrapped
// into, one of the sentinels: callers answer the first kind with
// invalid_grant and the second with server_error.
type Store interface {
	// CreateGrant stores a new grant together with its first refresh token
	// (generation 1), atomically. first.GrantID is set to g.ID by the store
	// if empty. It returns ErrConflict if a grant with the same ID or a
	// token with the same hash already exists; nothing is written then.
	// (A grant with the same ID may be one that CodeStore.RedeemCode
	// created from a code, or the revoked placeholder it stores when a
	// code consumed by a refused presentation is presented again: see
	// RedeemRequest.)
	// The first token's value may name the grant (NewRefreshToken) or not
	// (a value chosen by the host): LookupToken and Rotate must find it
	// either way.
	CreateGrant(ctx context.Context, g Grant, first RefreshToken) error

	// Rotate presents a refresh token and, if it is valid, marks it used and
	// creates its successor in the same atomic operation. See RotateRequest
	// and RotateResult for the rules.
	Rotate(ctx context.Context, req RotateRequest) (RotateResult, error)

	// LookupToken returns the refresh-token record ref names and its
	// grant, whatever their state (used, superseded, expired, revoked):
	// callers use RefreshToken.Check to decide whether it is active. It
	// returns ErrNotFound if the token is unknown or its records have been
	// removed. It changes nothing.
	LookupToken(ctx context.Context, ref TokenRef) (Grant, RefreshToken, error)

	// Grant returns the grant with the given ID, or ErrNotFound.
	Grant(ctx context.Context, grantID string) (Grant, error)

	// RevokeGrant marks the grant revoked (at now) so that none of its
	// refresh tokens can be used again. Revoking an already revoked grant
	// succeeds. It returns ErrNotFound if the grant is unknown.
	RevokeGrant(ctx context.Context, grantID string, now time.Time) error

	// UseOnce records key as used until expiresAt. It returns ErrReplayed if
	// key was already recorded by another call and its record has not
	// expired at now. It is the replay protection for client-assertion jti
	// values; the caller namespaces keys unambiguously.
	//
	// A call is one request: if the store's client resends it because the
	// reply was lost (go-redis does after a connection error), the resend
	// must get the answer the call would have got, never ErrReplayed
	// because of the call's own record (redisstore stores a nonce of the
	// call with the key).
	UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error
}

// Sweeper is implemented by stores whose expired records are removed by an
// explicit call rather than by the storage engine (PostgreSQL). The caller
// schedules it; it returns the number of records removed.
type Sweeper interface {
	Sweep(ctx context.Context, now time.Time) (int64, error)
}

// RotateRequest is the input of Store.Rotate.
type RotateRequest struct {
	// Presented is the refresh token the client sent.
	Presented TokenRef
	// Next is the hash of the new refresh token to create, a value made by
	// NewRefreshToken(grant ID) so that it names its family. The store sets
	// its generation (presented generation + 1), its GrantID, its IssuedAt
	// (Now) and its ExpiresAt: min(Now + Grant.IdleTimeout,
	// Grant.ExpiresAt), or Grant.ExpiresAt when IdleTimeout is zero. If a
	// token of the family with hash Next already exists, Rotate returns
	// ErrConflict and changes nothing (rule 7 below).
	Next Hash
	// ClientID is the authenticated client.
	ClientID string
	// Now is the caller's time of the request: it decides expiry and is
	// recorded as the IssuedAt of Next and the UsedAt of Presented. It
	// plays no part in telling a first presentation from a second one,
	// which the store decides by the order in which presentations reach
	// it, nor in the retry window, which the store measures on its own
	// clock. Callers take it as late as they can.
	Now time.Time
	// RetryWindow is how long, after the store accepted the first
	// presentation of a token, a second presentation by the same client is
	// treated as a retry (a client that lost the answer, or got a 5xx,
	// presenting the token again) rather than as reuse; see rule 5. Zero
	// means no retry: every second presentation is reuse.
	RetryWindow time.Duration
}

// RotateResult is the output of a successful Store.Rotate.
type RotateResult struct {
	// Grant is the token family, as stored.
	Grant Grant
	// Token is the newly created refresh-token record (Next).
	Token RefreshToken
	// Retry reports that the presented token had already been used and
	// the presentation was accepted as a retry (rule 5): Next superseded
	// the successor made by the earlier presentation.
	Retry bool
}

// The rules of Store.Rotate, checked in this order, atomically:
//
//  1. Presented unknown (or removed)                    -> ErrNotFound
//  2. grant belongs to another client:
//     token unused                                      -> ErrClientMismatch, no change
//     token used (or superseded)                        -> the grant is revoked, ErrReused
//  3. grant revoked                                     -> ErrRevoked
//  4. Now >= grant.ExpiresAt or Now >= token.ExpiresAt  -> ErrExpired
//  5. token used (or superseded): it is a retry if RetryWindow > 0, less
//     than RetryWindow has passed on the store's clock since the store
//     accepted the token's first presentation, and the successor made by
//     the token's latest accepted presentation exists and is neither used
//     nor superseded. A retry supersedes that successor (it becomes
//     dead: Check reports ErrReused, and presenting it is reuse) and
//     creates Next as the token's successor, RotateResult.Retry = true.
//     Anything else                                     -> the grant is revoked, ErrReused
//  6. token unused: marked used (UsedAt = Now), Next created as its
//     successor                                         -> success
//  7. before creating Next (rules 5 and 6): a token of the family with
//     hash Next already exists                          -> ErrConflict, no change
//     (Next names the family, so a clash with another family's token
//     would take a SHA-256 collision; stores need not look for one)
//
// Presentations are decided in the order the store receives them: the
// first presentation of an unused token to reach the store is the only one
// rule 6 accepts, whatever the Now of the others (a presenter whose clock
// is behind gains nothing). The invariant every store keeps, and storetest
// checks: a family has at most one live refresh token (unused, unexpired,
// grant not revoked), and every token any presentation ever received is
// that token or dead. Retries therefore never fork a family: of a token and
// its retries, only the successor of the last accepted one is live.
