package authserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// newTimingPair returns an authenticator without throttle, and two Basic
// requests with the same wrong secret: one for a registered
// client_secret_basic client (HashSecret), one for an unknown client_id of
// the same length.
func newTimingPair(tb testing.TB) (auth *ClientAuthenticator, known, unknown *http.Request) {
	tb.Helper()
	const unknownID = "basic-clienX" // len(caBasicID)
	if len(unknownID) != len(caBasicID) {
		tb.Fatal("the client_ids must have the same length")
	}
	clients, err := NewStaticClients(Client{ID: caBasicID, AuthMethod: AuthClientSecretBasic, SecretHash: HashSecret(caBasicSecret)})
	if err != nil {
		tb.Fatal(err)
	}
	auth, err = NewClientAuthenticator(ClientAuthConfig{Clients: clients, TokenEndpoint: caTokenURL, Replay: caNoReplay{},
		FailureLimit: -1})
	if err != nil {
		tb.Fatal(err)
	}
	request := func(id string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, caTokenURL, nil)
		r.Header.Set("Authorization", caEncodedBasic(id, "wrong-secret-0123456789"))
		return r
	}
	return auth, request(caBasicID), request(unknownID)
}

// TestUnknownClientCostsAsKnown: a wrong secret costs the same for an
// unknown client_id as for a registered client with the default hash
// (HashSecret), so timing does not tell which client_ids exist.
//
// It compares the medians of timingSamples interleaved samples of each
// (each sample a batch of timingBatch calls, the order of the pair
// alternating), and accepts a ratio within 20%. A loaded machine slows
// both alike and moves medians little; a measurement that still misses is
// repeated, up to three times in all, before the test fails.
func TestUnknownClientCostsAsKnown(t *testing.T) {
	const (
		timingSamples = 301
		timingBatch   = 20
		maxRatio      = 1.20
		attempts      = 3
	)
	auth, known, unknown := newTimingPair(t)
	ctx := context.Background()
	sample := func(r *http.Request) time.Duration {
		start := time.Now()
		for range timingBatch {
			if _, err := auth.Authenticate(ctx, r, nil); err == nil {
				t.Fatal("authenticated with a wrong secret")
			}
		}
		return time.Since(start)
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	for range timingBatch { // warm up
		sample(known)
		sample(unknown)
	}
	var ratio float64
	for attempt := 1; attempt <= attempts; attempt++ {
		k := make([]time.Duration, 0, timingSamples)
		u := make([]time.Duration, 0, timingSamples)
		for i := range timingSamples {
			if i%2 == 0 {
				k = append(k, sample(known))
				u = append(u, sample(unknown))
			} else {
				u = append(u, sample(unknown))
				k = append(k, sample(known))
			}
		}
		mk, mu := median(k), median(u)
		ratio = float64(max(mk, mu)) / float64(min(mk, mu))
		t.Logf("attempt %d: median of %d calls: known %v, unknown %v, ratio %.3f",
			attempt, timingBatch, mk, mu, ratio)
		if ratio <= maxRatio {
			return
		}
	}
	t.Fatalf("a wrong secret costs %.2f× more for one of a registered and an unknown client_id (limit %.2f)", ratio, maxRatio)
}
