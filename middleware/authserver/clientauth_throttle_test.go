package authserver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// caCountingStore counts the client lookups of a ClientStore.
type caCountingStore struct {
	ClientStore
	lookups atomic.Int64
}

func (s *caCountingStore) Client(ctx context.Context, id string) (*Client, error) {
	s.lookups.Add(1)
	return s.ClientStore.Client(ctx, id)
}

// newThrottleFixture is a caFixture whose client lookups are counted.
func newThrottleFixture(t *testing.T, mod ...func(*ClientAuthConfig)) (*caFixture, *caCountingStore) {
	var counting *caCountingStore
	f := newCAFixture(t, append([]func(*ClientAuthConfig){func(c *ClientAuthConfig) {
		counting = &caCountingStore{ClientStore: c.Clients}
		c.Clients = counting
	}}, mod...)...)
	return f, counting
}

// TestClientAuthThrottle: after FailureLimit failed secret attempts for a
// client_id, further attempts are refused with 429 before any lookup or
// hash, whether the client_id is registered or not, until the window gives
// one attempt back.
func TestClientAuthThrottle(t *testing.T) {
	tests := []struct {
		name          string
		wrong, right  func() (authz []string, form url.Values)
		basic         bool
		registeredID  bool
		wrongCause    error
		rightSucceeds bool
	}{
		{
			name:          "basic, registered",
			wrong:         func() ([]string, url.Values) { return []string{caEncodedBasic(caBasicID, "wrong")}, nil },
			right:         func() ([]string, url.Values) { return []string{caEncodedBasic(caBasicID, caBasicSecret)}, nil },
			basic:         true,
			wrongCause:    errWrongClientSecret,
			rightSucceeds: true,
		},
		{
			name:       "basic, unknown",
			wrong:      func() ([]string, url.Values) { return []string{caEncodedBasic("nobody", "wrong")}, nil },
			right:      func() ([]string, url.Values) { return []string{caEncodedBasic("nobody", caBasicSecret)}, nil },
			basic:      true,
			wrongCause: ErrUnknownClient,
		},
		{
			name: "post, registered",
			wrong: func() ([]string, url.Values) {
				return nil, url.Values{"client_id": {caPostID}, "client_secret": {"wrong"}}
			},
			right: func() ([]string, url.Values) {
				return nil, url.Values{"client_id": {caPostID}, "client_secret": {caPostSecret}}
			},
			wrongCause:    errWrongClientSecret,
			rightSucceeds: true,
		},
		{
			name: "post, unknown",
			wrong: func() ([]string, url.Values) {
				return nil, url.Values{"client_id": {"nobody"}, "client_secret": {"wrong"}}
			},
			right: func() ([]string, url.Values) {
				return nil, url.Values{"client_id": {"nobody"}, "client_secret": {caPostSecret}}
			},
			wrongCause: ErrUnknownClient,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, counting := newThrottleFixture(t, func(c *ClientAuthConfig) { c.FailureLimit = 3 })
			for range 3 {
				_, err := f.authenticate(tt.wrong())
				requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, tt.basic, tt.wrongCause)
			}
			require.EqualValues(t, 3, counting.lookups.Load())

			// Spent: refused without a lookup, even with the right secret.
			for _, attempt := range []func() ([]string, url.Values){tt.wrong, tt.right} {
				_, err := f.authenticate(attempt())
				requireAuthError(t, err, http.StatusTooManyRequests, CodeInvalidClient, false, errClientThrottled)
				assert.Equal(t, time.Second, err.(*Error).RetryAfter)
			}
			require.EqualValues(t, 3, counting.lookups.Load())

			// Half a window later, still nothing; a whole one gives one
			// attempt back.
			f.clock.Advance(500 * time.Millisecond)
			_, err := f.authenticate(tt.wrong())
			requireAuthError(t, err, http.StatusTooManyRequests, CodeInvalidClient, false, errClientThrottled)
			assert.Equal(t, 500*time.Millisecond, err.(*Error).RetryAfter)
			f.clock.Advance(500 * time.Millisecond)
			_, err = f.authenticate(tt.wrong())
			requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, tt.basic, tt.wrongCause)
			_, err = f.authenticate(tt.right())
			requireAuthError(t, err, http.StatusTooManyRequests, CodeInvalidClient, false, errClientThrottled)

			// After FailureLimit windows the budget is whole again.
			f.clock.Advance(3 * time.Second)
			c, err := f.authenticate(tt.right())
			if tt.rightSucceeds {
				require.NoError(t, err)
				assert.NotNil(t, c)
			} else {
				requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, tt.basic, tt.wrongCause)
			}
		})
	}
}

// TestClientAuthThrottleSuccessIsFree: successful attempts spend nothing,
// and other client_ids have budgets of their own.
func TestClientAuthThrottleSuccessIsFree(t *testing.T) {
	f, _ := newThrottleFixture(t, func(c *ClientAuthConfig) { c.FailureLimit = 2 })
	right := []string{caEncodedBasic(caBasicID, caBasicSecret)}
	wrong := []string{caEncodedBasic(caBasicID, "wrong")}
	_, err := f.authenticate(wrong, nil)
	requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, true, errWrongClientSecret)
	for range 50 {
		_, err := f.authenticate(right, nil)
		require.NoError(t, err)
	}
	_, err = f.authenticate(wrong, nil)
	requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, true, errWrongClientSecret)
	_, err = f.authenticate(wrong, nil)
	requireAuthError(t, err, http.StatusTooManyRequests, CodeInvalidClient, false, errClientThrottled)

	// Another client is not affected, nor are assertions and public
	// clients (no secret to guess).
	_, err = f.authenticate(nil, url.Values{"client_id": {caPostID}, "client_secret": {caPostSecret}})
	require.NoError(t, err)
	_, err = f.authenticate(nil, url.Values{"client_id": {caPublicID}})
	require.NoError(t, err)
	_, err = f.authenticate(nil, caAssertionForm(caSign(t, caHeader("ES384", "ec-1"), caClaims(caJWTID, f.clock.Now()), f.keys.ec384)))
	require.NoError(t, err)
}

// TestClientAuthThrottleNotSpentByServerErrors: attempts that end in a
// store failure or a server fault are given back.
func TestClientAuthThrottleNotSpentByServerErrors(t *testing.T) {
	auth, err := NewClientAuthenticator(ClientAuthConfig{
		Clients: caFailingStore{}, TokenEndpoint: caTokenURL, Replay: caNoReplay{}, FailureLimit: 1,
	})
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, caTokenURL, nil)
	r.Header.Set("Authorization", caEncodedBasic(caBasicID, "wrong"))
	for range 3 {
		_, err := auth.Authenticate(context.Background(), r, nil)
		requireAuthError(t, err, http.StatusServiceUnavailable, CodeTemporarilyUnavailable, false, errCAStoreDown)
	}
	assert.Zero(t, auth.throttle.size())
}

// TestClientAuthThrottleDisabled: a negative FailureLimit turns the
// throttle off.
func TestClientAuthThrottleDisabled(t *testing.T) {
	f, _ := newThrottleFixture(t, func(c *ClientAuthConfig) { c.FailureLimit = -1 })
	assert.Nil(t, f.auth.throttle)
	for range 3 * DefaultFailureLimit {
		_, err := f.authenticate([]string{caEncodedBasic(caBasicID, "wrong")}, nil)
		requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, true, errWrongClientSecret)
	}
	_, err := f.authenticate([]string{caEncodedBasic(caBasicID, caBasicSecret)}, nil)
	require.NoError(t, err)
}

// TestClientAuthThrottleDefaults: zero values give a burst of
// DefaultFailureLimit and one attempt per DefaultFailureWindow.
func TestClientAuthThrottleDefaults(t *testing.T) {
	f, _ := newThrottleFixture(t)
	wrong := []string{caEncodedBasic("nobody", "wrong")}
	for range DefaultFailureLimit {
		_, err := f.authenticate(wrong, nil)
		requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, true, ErrUnknownClient)
	}
	_, err := f.authenticate(wrong, nil)
	requireAuthError(t, err, http.StatusTooManyRequests, CodeInvalidClient, false, errClientThrottled)
	f.clock.Advance(DefaultFailureWindow)
	_, err = f.authenticate(wrong, nil)
	requireAuthError(t, err, http.StatusUnauthorized, CodeInvalidClient, true, ErrUnknownClient)
}

// TestClientAuthThrottleConcurrent: concurrent attempts with the right
// secret are never throttled, however many; concurrent wrong ones spend the
// budget (and may overshoot it, each costing a window).
func TestClientAuthThrottleConcurrent(t *testing.T) {
	f, _ := newThrottleFixture(t, func(c *ClientAuthConfig) { c.FailureLimit = 5 })
	attempt := func(secret string) map[int]int {
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				status := http.StatusOK
				if _, err := f.authenticate([]string{caEncodedBasic(caBasicID, secret)}, nil); err != nil {
					status = err.(*Error).Status
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		return statuses
	}
	assert.Equal(t, map[int]int{http.StatusOK: 40}, attempt(caBasicSecret))
	assert.Zero(t, f.auth.throttle.size())

	wrong := attempt("wrong")
	assert.GreaterOrEqual(t, wrong[http.StatusUnauthorized], 5)
	assert.Equal(t, 40, wrong[http.StatusUnauthorized]+wrong[http.StatusTooManyRequests])
	// Every failure costs a window: the wait is as long as the overshoot.
	_, err := f.authenticate([]string{caEncodedBasic(caBasicID, caBasicSecret)}, nil)
	requireAuthError(t, err, http.StatusTooManyRequests, CodeInvalidClient, false, errClientThrottled)
	assert.Equal(t, time.Duration(wrong[http.StatusUnauthorized]-5+1)*time.Second, err.(*Error).RetryAfter)
}

// TestClientAuthThrottleOverHTTP: the token endpoint answers a throttled
// attempt with 429, Retry-After and an invalid_client body.
func TestClientAuthThrottleOverHTTP(t *testing.T) {
	f, _ := newThrottleFixture(t, func(c *ClientAuthConfig) { c.FailureLimit = 1 })
	_, err := f.authenticate([]string{caEncodedBasic(caBasicID, "wrong")}, nil)
	require.Error(t, err)
	_, err = f.authenticate([]string{caEncodedBasic(caBasicID, "wrong")}, nil)
	rec := httptest.NewRecorder()
	WriteError(rec, err.(*Error))
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
	assert.Equal(t, `{"error":"invalid_client","error_description":"too many failed client authentication attempts; retry later"}`+"\n", rec.Body.String())
}

// TestFailureThrottleBounded: the table never holds more than its capacity;
// the entries closest to a whole budget are forgotten first, so a client_id
// under attack keeps its state through a flood of other client_ids.
func TestFailureThrottleBounded(t *testing.T) {
	now := caStart
	th := newFailureThrottle(3, time.Second, 100)
	for range 3 {
		require.Zero(t, th.wait("target", now))
		th.fail("target", now)
	}
	for i := range 1000 {
		id := fmt.Sprintf("flood-%d", i)
		require.Zero(t, th.wait(id, now))
		th.fail(id, now)
		require.LessOrEqual(t, th.size(), 100)
	}
	assert.Equal(t, time.Second, th.wait("target", now), "target still throttled")

	// Idle entries (budget whole again) are forgotten first.
	later := now.Add(2 * time.Second)
	th.fail("new", later)
	assert.Zero(t, th.wait("target", later), "target regained two attempts")
	th.fail("target", later)
	th.fail("target", later)
	assert.Equal(t, time.Second, th.wait("target", later))
}

// TestFailureThrottleWindow: a failure spends one attempt, regained after
// one window; a nil throttle throttles nothing.
func TestFailureThrottleWindow(t *testing.T) {
	th := newFailureThrottle(2, time.Second, 10)
	assert.Zero(t, th.wait("c", caStart))
	th.fail("c", caStart)
	assert.Zero(t, th.wait("c", caStart))
	th.fail("c", caStart)
	assert.Equal(t, time.Second, th.wait("c", caStart))
	assert.Equal(t, 250*time.Millisecond, th.wait("c", caStart.Add(750*time.Millisecond)))
	assert.Zero(t, th.wait("c", caStart.Add(time.Second)))
	assert.Zero(t, th.wait("other", caStart))
	assert.Equal(t, 1, th.size())

	var none *failureThrottle
	none.fail("c", caStart)
	assert.Zero(t, none.wait("c", caStart))
}
