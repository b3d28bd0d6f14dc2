package middleware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeLookup answers Grant from a map and counts calls.
type fakeLookup struct {
	mu     sync.Mutex
	grants map[string]tokenstore.Grant
	err    error
	calls  atomic.Int64
}

func (f *fakeLookup) Grant(ctx context.Context, id string) (tokenstore.Grant, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return tokenstore.Grant{}, f.err
	}
	g, ok := f.grants[id]
	if !ok {
		return tokenstore.Grant{}, tokenstore.ErrNotFound
	}
	return g, nil
}

func (f *fakeLookup) set(g tokenstore.Grant, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.grants == nil {
		f.grants = map[string]tokenstore.Grant{}
	}
	if g.ID != "" {
		f.grants[g.ID] = g
	}
	f.err = err
}

func serveStatus(h http.Handler, tok string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request{headers: bearer(tok)}.build())
	return rec.Code
}

func TestRevocationCheckMemoryStore(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	ctx := context.Background()
	_, hash := tokenstore.NewToken()
	grant := tokenstore.Grant{
		ID: "grant-1", ClientID: "app", Subject: "user-1", Scope: "patient/*.rs offline_access",
		IssuedAt: clock.Now(), ExpiresAt: clock.Now().Add(24 * time.Hour), Kind: tokenstore.KindOffline,
	}
	require.NoError(t, store.CreateGrant(ctx, grant, tokenstore.RefreshToken{Hash: hash, ExpiresAt: grant.ExpiresAt}))

	h := Authenticate(stubVerifier, WithRevocationCheck(store, time.Minute), WithRevocationClock(clock.Now))(echoHandler)
	assert.Equal(t, 200, serveStatus(h, "g-grant-1"))
	assert.Equal(t, 200, serveStatus(h, "good"), "tokens without a grant are not checked")

	require.NoError(t, store.RevokeGrant(ctx, "grant-1", clock.Now()))
	assert.Equal(t, 200, serveStatus(h, "g-grant-1"), "the state is trusted for the interval")

	clock.Advance(time.Minute)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request{headers: bearer("g-grant-1")}.build())
	assert.Equal(t, 401, rec.Code)
	assert.Equal(t, `Bearer realm="smartauth", error="invalid_token", error_description="The access token has been revoked"`,
		rec.Header().Get("WWW-Authenticate"))
	assert.Equal(t, outcome("login", "The access token has been revoked"), rec.Body.String())

	assert.Equal(t, 401, serveStatus(h, "g-unknown"), "an unknown grant counts as revoked")
}

func TestRevocationCheckLookups(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	lookup := &fakeLookup{}
	lookup.set(tokenstore.Grant{ID: "live", ExpiresAt: clock.Now().Add(time.Hour)}, nil)
	lookup.set(tokenstore.Grant{ID: "noexp"}, nil)
	lookup.set(tokenstore.Grant{ID: "revoked", Revoked: true, ExpiresAt: clock.Now().Add(time.Hour)}, nil)
	lookup.set(tokenstore.Grant{ID: "expired", ExpiresAt: clock.Now()}, nil)
	h := Authenticate(stubVerifier, WithRevocationCheck(lookup, 10*time.Second), WithRevocationClock(clock.Now))(echoHandler)

	calls := func() int64 { return lookup.calls.Load() }

	assert.Equal(t, 200, serveStatus(h, "g-live"))
	assert.Equal(t, 200, serveStatus(h, "g-live"))
	assert.Equal(t, int64(1), calls(), "one lookup per interval")
	clock.Advance(9 * time.Second)
	assert.Equal(t, 200, serveStatus(h, "g-live"))
	assert.Equal(t, int64(1), calls())
	clock.Advance(time.Second)
	assert.Equal(t, 200, serveStatus(h, "g-live"))
	assert.Equal(t, int64(2), calls(), "looked up again after the interval")

	assert.Equal(t, 200, serveStatus(h, "g-noexp"))
	assert.Equal(t, 401, serveStatus(h, "g-expired"), "an expired grant is gone")

	before := calls()
	assert.Equal(t, 401, serveStatus(h, "g-revoked"))
	clock.Advance(time.Hour)
	assert.Equal(t, 401, serveStatus(h, "g-revoked"))
	assert.Equal(t, before+1, calls(), "a revoked grant is remembered for good")

	before = calls()
	assert.Equal(t, 401, serveStatus(h, "g-missing"))
	assert.Equal(t, 401, serveStatus(h, "g-missing"))
	clock.Advance(10 * time.Second)
	lookup.set(tokenstore.Grant{ID: "missing"}, nil)
	assert.Equal(t, 200, serveStatus(h, "g-missing"), "an unknown grant is looked up again after the interval")
	assert.Equal(t, before+2, calls())
}

func TestRevocationCheckStoreFailure(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	lookup := &fakeLookup{}
	lookup.set(tokenstore.Grant{ID: "live"}, errors.New("redis: connection refused"))
	h := Authenticate(stubVerifier, WithRevocationCheck(lookup, 0), WithRevocationClock(clock.Now))(echoHandler)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request{headers: bearer("g-live")}.build())
	assert.Equal(t, 503, rec.Code)
	assert.Empty(t, rec.Header().Values("WWW-Authenticate"))
	assert.Equal(t, outcome("transient", "The access token cannot be verified at the moment"), rec.Body.String())
	assert.NotContains(t, rec.Body.String(), "redis")

	assert.Equal(t, 503, serveStatus(h, "g-live"))
	assert.Equal(t, int64(2), lookup.calls.Load(), "failures are not cached")

	lookup.set(tokenstore.Grant{}, nil)
	assert.Equal(t, 200, serveStatus(h, "g-live"))
}

func TestRevocationCheckDisabled(t *testing.T) {
	t.Parallel()
	h := Authenticate(stubVerifier, WithRevocationCheck(nil, time.Second))(echoHandler)
	assert.Equal(t, 200, serveStatus(h, "g-anything"))
}

// blockingLookup blocks every Grant call until release is closed.
type blockingLookup struct {
	started chan struct{}
	release chan struct{}
	calls   atomic.Int64
}

func (b *blockingLookup) Grant(ctx context.Context, id string) (tokenstore.Grant, error) {
	if b.calls.Add(1) == 1 {
		close(b.started)
	}
	<-b.release
	return tokenstore.Grant{ID: id}, nil
}

func TestRevocationCheckConcurrent(t *testing.T) {
	t.Parallel()
	lookup := &blockingLookup{started: make(chan struct{}), release: make(chan struct{})}
	h := Authenticate(stubVerifier, WithRevocationCheck(lookup, time.Hour))(echoHandler)

	const n = 16
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = serveStatus(h, "g-shared")
		}()
	}
	<-lookup.started
	close(lookup.release)
	wg.Wait()
	for _, c := range codes {
		assert.Equal(t, 200, c)
	}
	assert.Equal(t, int64(1), lookup.calls.Load(), "concurrent checks of one grant share one lookup")
}

func TestRevocationCheckCanceledRequest(t *testing.T) {
	t.Parallel()
	lookup := &blockingLookup{started: make(chan struct{}), release: make(chan struct{})}
	defer close(lookup.release)
	h := Authenticate(stubVerifier, WithRevocationCheck(lookup, time.Hour))(echoHandler)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-lookup.started
		cancel()
	}()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request{headers: bearer("g-slow")}.build().WithContext(ctx))
	assert.Equal(t, 503, rec.Code)
}

func TestRevocationCheckerBounded(t *testing.T) {
	t.Parallel()
	lookup := &fakeLookup{}
	c := newRevocationChecker(lookup, time.Minute, newTestClock().Now)
	for i := range revocationCacheSize + 100 {
		require.ErrorIs(t, c.check(context.Background(), fmt.Sprint("g", i)), ErrTokenRevoked)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Len(t, c.entries, revocationCacheSize)
}
