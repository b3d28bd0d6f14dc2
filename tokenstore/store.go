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
	CreateGrant(ctx context.Context, g Grant, first RefreshToken) error

	// Rotate presents a refresh token and, if it is valid, marks it used and
	// creates its successor in the same atomic operation. See RotateRequest
	// and RotateResult for the rules.
	Rotate(ctx context.Context, req RotateRequest) (RotateResult, error)

	// LookupToken returns the refresh-token record with the given hash and
	// its grant, whatever their state (used, expired, revoked): callers use
	// RefreshToken.Check to decide whether it is active. It returns
	// ErrNotFound if the hash is unknown or its records have been removed.
	// It changes nothing.
	LookupToken(ctx context.Context, hash Hash) (Grant, RefreshToken, error)

	// Grant returns the grant with the given ID, or ErrNotFound.
	Grant(ctx context.Context, grantID string) (Grant, error)

	// RevokeGrant marks the grant revoked (at now) so that none of its
	// refresh tokens can be used again. Revoking an already revoked grant
	// succeeds. It returns ErrNotFound if the grant is unknown.
	RevokeGrant(ctx context.Context, grantID string, now time.Time) error

	// UseOnce records key as used until expiresAt. It returns ErrReplayed if
	// key was already recorded and its record has not expired at now. It is
	// the replay protection for client-assertion jti values; the caller
	// namespaces keys (for example "jti:" + client_id + ":" + jti).
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
	// Presented is the hash of the refresh token the client sent.
	Presented Hash
	// Next is the hash of the new refresh token to create. The store sets
	// its generation (presented generation + 1), its GrantID, its IssuedAt
	// (Now) and its ExpiresAt: min(Now + Grant.IdleTimeout,
	// Grant.ExpiresAt), or Grant.ExpiresAt when IdleTimeout is zero. If a
	// token with hash Next already exists, Rotate returns ErrConflict and
	// changes nothing (see rule 7 below).
	Next Hash
	// ClientID is the authenticated client. If the grant belongs to another
	// client, Rotate returns ErrClientMismatch and changes nothing.
	ClientID string
	// Now is the time of the request.
	Now time.Time
	// GracePeriod: a token presented again less than GracePeriod after it
	// was first used is answered as a normal refresh (a new successor is
	// created, RotateResult.Grace is true). Zero (the default) means any
	// second presentation is reuse.
	GracePeriod time.Duration
}

// RotateResult is the output of a successful Store.Rotate.
type RotateResult struct {
	// Grant is the token family, as stored.
	Grant Grant
	// Token is the newly created refresh-token record (Next).
	Token RefreshToken
	// Grace reports that the presented token had already been used and was
	// accepted only because of the grace period.
	Grace bool
}

// The rules of Store.Rotate, checked in this order, atomically:
//
//  1. Presented unknown (or removed)                  -> ErrNotFound
//  2. grant belongs to another client                 -> ErrClientMismatch, no change
//  3. grant revoked                                   -> ErrRevoked
//  4. Now >= grant.ExpiresAt or Now >= token.ExpiresAt -> ErrExpired
//  5. token already used:
//     Now < UsedAt + GracePeriod                      -> success with Grace = true
//     otherwise                                       -> the grant is revoked, ErrReused
//  6. otherwise: token marked used at Now, Next created -> success
//  7. before creating Next (steps 5 with Grace and 6):
//     a token with hash Next already exists            -> ErrConflict, no change
//
// Exactly one of any number of concurrent presentations of an unused token
// reaches step 6.
