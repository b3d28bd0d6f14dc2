package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// Presenters is the number of goroutines that present the same token at
// once in the concurrency tests of Run.
const Presenters = 50

func concurrencyTests() []test {
	return []test{
		{"SameTokenWithoutRetryWindow", testConcurrentSameToken},
		{"SameTokenWithinRetryWindow", testConcurrentSameTokenRetry},
		{"RetriesRaceSuccessorUse", testConcurrentRetryAndSuccessor},
		{"DifferentFamilies", testConcurrentFamilies},
		{"SameOneTimeKey", testConcurrentUseOnce},
		{"SameGrantID", testConcurrentCreateGrant},
	}
}

// ClockSkew is how far apart the Now values of the concurrent
// presentations of the suite are: they are spread evenly over
// [at - ClockSkew, at + ClockSkew], as if the presenters were instances
// with skewed clocks. The store must decide by the order in which the
// presentations reach it, not by their Now.
const ClockSkew = 5 * time.Second

// skewed returns the Now of the i-th of n concurrent presentations around
// at: spread over ±ClockSkew, at Precision.
func skewed(at time.Time, i, n int) time.Time {
	if n < 2 {
		return at
	}
	d := -ClockSkew + time.Duration(i)*2*ClockSkew/time.Duration(n-1)
	return at.Add(d.Truncate(Precision))
}

// outcome is the result of one concurrent Rotate.
type outcome struct {
	next tokenstore.Hash
	now  time.Time
	res  tokenstore.RotateResult
	err  error
}

// presentConcurrently presents the token presented n times at once, the
// i-th time through stores[i%len(stores)] with Now skewed(at, i, n) and the
// given retry window, and returns the outcomes.
func presentConcurrently(t *testing.T, stores []tokenstore.Store, presented tokenstore.TokenRef, n int, at time.Time, window time.Duration) []outcome {
	t.Helper()
	out := make([]outcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		out[i].next = NewHash()
		out[i].now = skewed(at, i, n)
		s := stores[i%len(stores)]
		wg.Go(func() {
			<-start
			out[i].res, out[i].err = s.Rotate(t.Context(), tokenstore.RotateRequest{
				Presented: presented, Next: out[i].next, ClientID: ClientID, Now: out[i].now, RetryWindow: window,
			})
		})
	}
	close(start)
	wg.Wait()
	return out
}

// requireOneWinner checks the outcomes of concurrent presentations of an
// unused token without retry window: exactly one success, the others
// ErrReused (the first losers) or ErrRevoked (losers that came after a
// reuse had revoked the family), and at least one ErrReused. It returns the
// winner.
func requireOneWinner(t *testing.T, out []outcome) outcome {
	t.Helper()
	var winners []outcome
	reused := 0
	for i, o := range out {
		switch {
		case o.err == nil:
			winners = append(winners, o)
		case oneOf(o.err, tokenstore.ErrReused):
			reused++
		default:
			require.Truef(t, oneOf(o.err, tokenstore.ErrRevoked),
				"presentation %d: want success, ErrReused or ErrRevoked, got %v", i, o.err)
		}
	}
	require.Len(t, winners, 1, "exactly one concurrent presentation succeeds")
	if len(out) > 1 {
		require.Positive(t, reused, "some presentation reports the reuse")
	}
	w := winners[0]
	require.False(t, w.res.Retry)
	require.Equal(t, w.next, w.res.Token.Hash)
	require.Equal(t, 2, w.res.Token.Generation)
	return w
}

// requireFamilyRevoked checks, through every store, that the family of g
// is revoked and that the winner's token fails with ErrRevoked, and that
// only the winner's successor was created.
func requireFamilyRevoked(t *testing.T, stores []tokenstore.Store, g tokenstore.Grant, first tokenstore.RefreshToken, out []outcome, winner outcome, at time.Time) {
	t.Helper()
	for i, s := range stores {
		require.True(t, grant(t, s, g.ID).Revoked, "store %d: the family is revoked", i)
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: Ref(winner.res.Token), Next: NewHash(), ClientID: ClientID, Now: at.Add(ClockSkew + time.Second),
		})
		requireRecordError(t, tokenstore.ErrRevoked, err, "store %d: the winner's token", i)
		requireFamilyInvariant(t, s, at, Ref(first), Ref(winner.res.Token))
	}
	for _, o := range out {
		if o.next != winner.next {
			requireNotFound(t, stores[0], tokenstore.TokenRef{Hash: o.next, GrantID: g.ID}, "a loser's Next must not be created")
		}
	}
}

// requireAllRetries checks the outcomes of concurrent presentations of an
// unused token within the retry window: every one succeeds, exactly one
// as a first presentation and the others as retries, the family is not
// revoked and exactly one of the tokens the presenters received is live.
func requireAllRetries(t *testing.T, stores []tokenstore.Store, g tokenstore.Grant, first tokenstore.RefreshToken, out []outcome, at time.Time) {
	t.Helper()
	refs := []tokenstore.TokenRef{Ref(first)}
	var firstUse time.Time
	for i, o := range out {
		require.NoError(t, o.err, "presentation %d", i)
		if !o.res.Retry {
			require.True(t, firstUse.IsZero(), "exactly one presentation is not a retry")
			firstUse = o.now
		}
		require.Equal(t, o.next, o.res.Token.Hash)
		require.Equal(t, 2, o.res.Token.Generation)
		refs = append(refs, Ref(o.res.Token))
	}
	require.False(t, firstUse.IsZero(), "one presentation is not a retry")
	for i, s := range stores {
		require.False(t, grant(t, s, g.ID).Revoked, "store %d: retries do not revoke", i)
		_, tok := lookup(t, s, Ref(first))
		sameTime(t, firstUse, tok.UsedAt, "UsedAt: the Now of the presentation that was not a retry")
		requireFamilyInvariant(t, s, at, refs...)
	}
}

func testConcurrentSameToken(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	at := h.at(time.Minute)

	stores := []tokenstore.Store{s}
	out := presentConcurrently(t, stores, Ref(first), Presenters, at, 0)
	winner := requireOneWinner(t, out)
	requireFamilyRevoked(t, stores, g, first, out, winner, at)
}

func testConcurrentSameTokenRetry(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	at := h.at(time.Minute)

	stores := []tokenstore.Store{s}
	out := presentConcurrently(t, stores, Ref(first), Presenters, at, retryWindow)
	requireAllRetries(t, stores, g, first, out, at)
}

// testConcurrentRetryAndSuccessor: within the retry window, half the
// presenters retry the first token while the other half present its
// successor. Whichever comes first, the other kind finds a token it
// cannot use: either the successor was superseded, or the successor was
// used and the retry is reuse. The family always ends revoked.
func testConcurrentRetryAndSuccessor(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	at := h.at(time.Minute)
	s1 := RequireRotate(t, s, Ref(first), at).Token

	n := Presenters
	out := make([]outcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		presented := Ref(first)
		if i%2 == 1 {
			presented = Ref(s1)
		}
		out[i].next = NewHash()
		out[i].now = skewed(at.Add(time.Second), i, n)
		wg.Go(func() {
			<-start
			out[i].res, out[i].err = s.Rotate(t.Context(), tokenstore.RotateRequest{
				Presented: presented, Next: out[i].next, ClientID: ClientID, Now: out[i].now, RetryWindow: retryWindow,
			})
		})
	}
	close(start)
	wg.Wait()

	refs := []tokenstore.TokenRef{Ref(first), Ref(s1)}
	reused := 0
	for i, o := range out {
		switch {
		case o.err == nil:
			refs = append(refs, Ref(o.res.Token))
		case oneOf(o.err, tokenstore.ErrReused):
			reused++
		default:
			require.Truef(t, oneOf(o.err, tokenstore.ErrRevoked),
				"presentation %d: want success, ErrReused or ErrRevoked, got %v", i, o.err)
		}
	}
	require.Positive(t, reused, "some presentation reports the reuse")
	require.True(t, grant(t, s, g.ID).Revoked, "the family is revoked")
	requireFamilyInvariant(t, s, at, refs...)
}

func testConcurrentFamilies(t *testing.T, h harness) {
	const families, rotations = 8, 10
	s := h.newStore(t)
	grants := make([]tokenstore.Grant, families)
	refs := make([]tokenstore.TokenRef, families)
	for i := range grants {
		grants[i] = NewGrant(h.base)
		refs[i] = Ref(CreateFamily(t, s, grants[i]))
	}

	errs := make([]error, families)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range grants {
		wg.Go(func() {
			<-start
			for r := 1; r <= rotations; r++ {
				res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
					Presented: refs[i], Next: NewHash(), ClientID: ClientID, Now: h.at(time.Duration(r) * time.Minute),
				})
				if err != nil {
					errs[i] = err
					return
				}
				refs[i] = Ref(res.Token)
			}
		})
	}
	close(start)
	wg.Wait()

	for i, g := range grants {
		require.NoError(t, errs[i], "family %d", i)
		gotGrant, tok := lookup(t, s, refs[i])
		assert.Equal(t, g.ID, gotGrant.ID)
		assert.False(t, gotGrant.Revoked)
		assert.Equal(t, rotations+1, tok.Generation)
		assert.NoError(t, tok.Check(gotGrant, h.at(rotations*time.Minute)))
	}
}

func testConcurrentUseOnce(t *testing.T, h harness) {
	s := h.newStore(t)
	errs := make([]error, Presenters)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			<-start
			errs[i] = s.UseOnce(t.Context(), "jti:app:same", h.at(5*time.Minute), h.base)
		})
	}
	close(start)
	wg.Wait()

	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		requireRecordError(t, tokenstore.ErrReplayed, err, "use %d", i)
	}
	require.Equal(t, 1, ok, "exactly one concurrent use succeeds")
}

func testConcurrentCreateGrant(t *testing.T, h harness) {
	s := h.newStore(t)
	id := tokenstore.NewID()
	errs := make([]error, Presenters)
	firsts := make([]tokenstore.RefreshToken, Presenters)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range errs {
		g := NewGrant(h.base)
		g.ID = id
		firsts[i] = FirstToken(g)
		wg.Go(func() {
			<-start
			errs[i] = s.CreateGrant(t.Context(), g, firsts[i])
		})
	}
	close(start)
	wg.Wait()

	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			lookup(t, s, Ref(firsts[i]))
			continue
		}
		requireRecordError(t, tokenstore.ErrConflict, err, "create %d", i)
		requireNotFound(t, s, Ref(firsts[i]), "a refused grant's token must not be stored")
	}
	require.Equal(t, 1, ok, "exactly one concurrent CreateGrant succeeds")
}

// RunConcurrentInstances checks that several instances of one shared store
// (two clients of the same Redis, two pools on the same PostgreSQL
// database, ...) agree on rotation. It creates two grants through
// stores[0] and presents the first token of each n times at once, spread
// across the instances, with Now values up to ClockSkew apart:
//
//   - without retry window, exactly one presentation succeeds, every other
//     one fails with ErrReused or ErrRevoked, and every instance sees the
//     family revoked;
//   - within a retry window, every presentation succeeds (one first
//     presentation, the others retries), the family is not revoked, and
//     exactly one of the tokens handed out is live, as every instance
//     sees it.
//
// stores must share their records and hold nothing else of the caller's;
// n should be at least 2*len(stores).
func RunConcurrentInstances(t *testing.T, stores []tokenstore.Store, n int) {
	t.Helper()
	require.NotEmpty(t, stores, "stores")
	require.Positive(t, n, "n")
	now := time.Now().UTC().Truncate(Precision)
	at := now.Add(time.Minute)
	for _, window := range []time.Duration{0, retryWindow} {
		g := NewGrant(now)
		first := CreateFamily(t, stores[0], g)
		for i, s := range stores {
			gotGrant, tok := lookup(t, s, Ref(first))
			require.Equal(t, g.ID, gotGrant.ID, "store %d sees the grant", i)
			require.Equal(t, 1, tok.Generation)
		}

		out := presentConcurrently(t, stores, Ref(first), n, at, window)
		if window > 0 {
			requireAllRetries(t, stores, g, first, out, at)
			continue
		}
		winner := requireOneWinner(t, out)
		if n > 1 {
			requireFamilyRevoked(t, stores, g, first, out, winner, at)
		}
	}
}
