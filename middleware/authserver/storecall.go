package authserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// DefaultStoreTimeout bounds each store call of the endpoints (and of the
// ClientAuthenticator) whose StoreTimeout is zero.
const DefaultStoreTimeout = 5 * time.Second

// errStoreDeadline reports a store call that had not answered when its
// deadline passed (or the request was cancelled). It is a failure of the
// store, never a fact about the records.
var errStoreDeadline = errors.New("authserver: store call did not answer within its deadline")

// storeTimeout returns the timeout of a StoreTimeout field: d, or
// DefaultStoreTimeout if d is zero. A negative d is refused by the
// constructors.
func storeTimeout(d time.Duration) time.Duration {
	if d == 0 {
		return DefaultStoreTimeout
	}
	return d
}

// callWithDeadline runs call with a context derived from ctx that expires
// after timeout, and returns its results — or, as soon as that context is
// done, an error wrapping errStoreDeadline and the context's cause, whether
// or not call has returned. A store that ignores its context therefore
// cannot hold a request beyond its deadline: its call goes on in the
// background, its results are dropped, and whatever it changes in the
// store stays changed (the retry rule of tokenstore.Store.Rotate makes the
// client's retry of a refresh succeed all the same). A panic of call is
// returned as an error.
func callWithDeadline[T any](ctx context.Context, timeout time.Duration, call func(context.Context) (T, error)) (T, error) {
	var zero T
	if ctx.Err() != nil { // the request is over: do not start the call
		return zero, fmt.Errorf("%w: %w", errStoreDeadline, context.Cause(ctx))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: a late call never blocks
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.err = fmt.Errorf("authserver: store call panicked: %v", p)
			}
			done <- r
		}()
		r.v, r.err = call(ctx)
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-done: // answered just in time
			return r.v, r.err
		default:
		}
		return zero, fmt.Errorf("%w: %w", errStoreDeadline, context.Cause(ctx))
	}
}

// deadlineStore is a tokenstore.Store whose every call runs under
// callWithDeadline.
type deadlineStore struct {
	store   tokenstore.Store
	timeout time.Duration
}

var _ tokenstore.Store = deadlineStore{}

// lookupResult holds the results of LookupToken.
type lookupResult struct {
	grant tokenstore.Grant
	token tokenstore.RefreshToken
}

func (s deadlineStore) CreateGrant(ctx context.Context, g tokenstore.Grant, first tokenstore.RefreshToken) error {
	_, err := callWithDeadline(ctx, s.timeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.store.CreateGrant(ctx, g, first)
	})
	return err
}

func (s deadlineStore) Rotate(ctx context.Context, req tokenstore.RotateRequest) (tokenstore.RotateResult, error) {
	return callWithDeadline(ctx, s.timeout, func(ctx context.Context) (tokenstore.RotateResult, error) {
		return s.store.Rotate(ctx, req)
	})
}

func (s deadlineStore) LookupToken(ctx context.Context, ref tokenstore.TokenRef) (tokenstore.Grant, tokenstore.RefreshToken, error) {
	r, err := callWithDeadline(ctx, s.timeout, func(ctx context.Context) (lookupResult, error) {
		g, t, err := s.store.LookupToken(ctx, ref)
		return lookupResult{g, t}, err
	})
	return r.grant, r.token, err
}

func (s deadlineStore) Grant(ctx context.Context, grantID string) (tokenstore.Grant, error) {
	return callWithDeadline(ctx, s.timeout, func(ctx context.Context) (tokenstore.Grant, error) {
		return s.store.Grant(ctx, grantID)
	})
}

func (s deadlineStore) RevokeGrant(ctx context.Context, grantID string, now time.Time) error {
	_, err := callWithDeadline(ctx, s.timeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.store.RevokeGrant(ctx, grantID, now)
	})
	return err
}

func (s deadlineStore) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	_, err := callWithDeadline(ctx, s.timeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.store.UseOnce(ctx, key, expiresAt, now)
	})
	return err
}
