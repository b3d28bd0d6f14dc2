package middleware

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/smartauth/smartauth/tokenstore"
)

// DefaultRevocationCheckInterval is how long WithRevocationCheck trusts a
// grant's looked-up state by default.
const DefaultRevocationCheckInterval = 30 * time.Second

// revocationCacheSize bounds the number of grants whose state is
// remembered.
const revocationCacheSize = 10000

// revocationLookupTimeout bounds one grant lookup (which runs detached
// from the request that started it).
const revocationLookupTimeout = 10 * time.Second

// GrantLookup returns the grant (token family) with the given ID.
// tokenstore.Store satisfies it.
//
// For WithRevocationCheck, a grant counts as gone — and every access token
// of its family is refused — if it is revoked, if it has expired
// (ExpiresAt reached), or if Grant returns one of tokenstore's record errors
// such as tokenstore.ErrNotFound: an expired family may already have been
// removed by the store, and the answer must not depend on when it was. Any
// other error is a failure of the store: the request is refused with 503.
type GrantLookup interface {
	Grant(ctx context.Context, grantID string) (tokenstore.Grant, error)
}

// revocationChecker remembers, for a bounded number of grant IDs, whether
// the grant is gone and when that was looked up. It is safe for concurrent
// use; concurrent lookups of one grant are merged into one.
type revocationChecker struct {
	lookup   GrantLookup
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]grantState

	group singleflight.Group
}

type grantState struct {
	gone      bool
	final     bool // revoked or expired: it cannot come back
	checkedAt time.Time
}

func newRevocationChecker(lookup GrantLookup, interval time.Duration, now func() time.Time) *revocationChecker {
	return &revocationChecker{
		lookup:   lookup,
		interval: interval,
		now:      now,
		entries:  make(map[string]grantState),
	}
}

// check returns nil if grantID names a live grant, ErrTokenRevoked if the
// grant is gone, or an error wrapping ErrVerifierUnavailable if its state
// could not be looked up.
func (c *revocationChecker) check(ctx context.Context, grantID string) error {
	now := c.now()
	c.mu.Lock()
	st, ok := c.entries[grantID]
	c.mu.Unlock()
	if ok && (st.final || c.fresh(st, now)) {
		return goneErr(st.gone)
	}

	// The lookup runs without the request's cancellation so that one
	// client going away does not fail the others waiting on it; it is
	// bounded by revocationLookupTimeout instead.
	ch := c.group.DoChan(grantID, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revocationLookupTimeout)
		defer cancel()
		return c.refresh(lctx, grantID)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return res.Err
		}
		return goneErr(res.Val.(bool))
	case <-ctx.Done():
		return fmt.Errorf("%w: grant lookup: %w", ErrVerifierUnavailable, ctx.Err())
	}
}

// fresh reports whether st was looked up less than interval before now.
func (c *revocationChecker) fresh(st grantState, now time.Time) bool {
	age := now.Sub(st.checkedAt)
	return age >= 0 && age < c.interval
}

// refresh looks the grant up and remembers whether it is gone.
func (c *revocationChecker) refresh(ctx context.Context, grantID string) (bool, error) {
	now := c.now()
	// A flight that finished just before this one started may have
	// stored a fresh answer.
	c.mu.Lock()
	st, ok := c.entries[grantID]
	c.mu.Unlock()
	if ok && (st.final || c.fresh(st, now)) {
		return st.gone, nil
	}

	g, err := c.lookup.Grant(ctx, grantID)
	var gone, final bool
	switch {
	case err == nil:
		gone = g.Revoked || (!g.ExpiresAt.IsZero() && !now.Before(g.ExpiresAt))
		final = gone
	case tokenstore.IsRecordError(err):
		// Not final: a store replica may not have seen a new grant yet.
		gone = true
	default:
		return false, fmt.Errorf("%w: grant lookup: %w", ErrVerifierUnavailable, err)
	}

	c.mu.Lock()
	if _, ok := c.entries[grantID]; !ok && len(c.entries) >= revocationCacheSize {
		for k := range c.entries { // evict an arbitrary entry
			delete(c.entries, k)
			break
		}
	}
	c.entries[grantID] = grantState{gone: gone, final: final, checkedAt: now}
	c.mu.Unlock()
	return gone, nil
}

func goneErr(gone bool) error {
	if gone {
		return ErrTokenRevoked
	}
	return nil
}
