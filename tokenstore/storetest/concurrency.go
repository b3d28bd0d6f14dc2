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
		{"SameTokenWithoutGrace", testConcurrentSameToken},
		{"SameTokenWithinGrace", testConcurrentSameTokenGrace},
		{"DifferentFamilies", testConcurrentFamilies},
		{"SameOneTimeKey", testConcurrentUseOnce},
		{"SameGrantID", testConcurrentCreateGrant},
	}
}

// outcome is the result of one concurrent Rotate.
type outcome struct {
	next tokenstore.Hash
	res  tokenstore.RotateResult
	err  error
}

// presentConcurrently presents the token with hash presented n times at
// once, the i-th time through stores[i%len(stores)], all at now with the
// given grace period, and returns the outcomes.
func presentConcurrently(t *testing.T, stores []tokenstore.Store, presented tokenstore.Hash, n int, now time.Time, grace time.Duration) []outcome {
	t.Helper()
	out := make([]outcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		out[i].next = NewHash()
		s := stores[i%len(stores)]
		wg.Go(func() {
			<-start
			out[i].res, out[i].err = s.Rotate(t.Context(), tokenstore.RotateRequest{
				Presented: presented, Next: out[i].next, ClientID: ClientID, Now: now, GracePeriod: grace,
			})
		})
	}
	close(start)
	wg.Wait()
	return out
}

// requireOneWinner checks the outcomes of concurrent presentations of an
// unused token without grace period: exactly one success, the others
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
	require.False(t, w.res.Grace)
	require.Equal(t, w.next, w.res.Token.Hash)
	require.Equal(t, 2, w.res.Token.Generation)
	return w
}

// requireFamilyRevoked checks, through every store, that the family of g
// is revoked and that the winner's token fails with ErrRevoked, and that
// only the winner's successor was created.
func requireFamilyRevoked(t *testing.T, stores []tokenstore.Store, g tokenstore.Grant, out []outcome, winner outcome, now time.Time) {
	t.Helper()
	for i, s := range stores {
		require.True(t, grant(t, s, g.ID).Revoked, "store %d: the family is revoked", i)
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: winner.next, Next: NewHash(), ClientID: ClientID, Now: now.Add(time.Second),
		})
		requireRecordError(t, tokenstore.ErrRevoked, err, "store %d: the winner's token", i)
	}
	for _, o := range out {
		if o.next != winner.next {
			requireNotFound(t, stores[0], o.next, "a loser's Next must not be created")
		}
	}
}

func testConcurrentSameToken(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	now := h.at(time.Minute)

	out := presentConcurrently(t, []tokenstore.Store{s}, first.Hash, Presenters, now, 0)
	winner := requireOneWinner(t, out)
	requireFamilyRevoked(t, []tokenstore.Store{s}, g, out, winner, now)
}

func testConcurrentSameTokenGrace(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	now := h.at(time.Minute)

	out := presentConcurrently(t, []tokenstore.Store{s}, first.Hash, Presenters, now, time.Minute)
	fresh := 0
	seen := map[tokenstore.Hash]bool{}
	for i, o := range out {
		require.NoError(t, o.err, "presentation %d", i)
		if !o.res.Grace {
			fresh++
		}
		require.Equal(t, o.next, o.res.Token.Hash)
		require.Equal(t, 2, o.res.Token.Generation)
		require.False(t, seen[o.res.Token.Hash], "tokens are distinct")
		seen[o.res.Token.Hash] = true
	}
	require.Equal(t, 1, fresh, "exactly one presentation is not a grace one")
	require.False(t, grant(t, s, g.ID).Revoked)
	_, tok := lookup(t, s, first.Hash)
	sameTime(t, now, tok.UsedAt, "UsedAt")
	for _, o := range out {
		_, tok := lookup(t, s, o.next)
		require.NoError(t, tok.Check(grant(t, s, g.ID), now))
	}
}

func testConcurrentFamilies(t *testing.T, h harness) {
	const families, rotations = 8, 10
	s := h.newStore(t)
	grants := make([]tokenstore.Grant, families)
	hashes := make([]tokenstore.Hash, families)
	for i := range grants {
		grants[i] = NewGrant(h.base)
		hashes[i] = CreateFamily(t, s, grants[i]).Hash
	}

	errs := make([]error, families)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range grants {
		wg.Go(func() {
			<-start
			for r := 1; r <= rotations; r++ {
				next := NewHash()
				_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
					Presented: hashes[i], Next: next, ClientID: ClientID, Now: h.at(time.Duration(r) * time.Minute),
				})
				if err != nil {
					errs[i] = err
					return
				}
				hashes[i] = next
			}
		})
	}
	close(start)
	wg.Wait()

	for i, g := range grants {
		require.NoError(t, errs[i], "family %d", i)
		gotGrant, tok := lookup(t, s, hashes[i])
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
			lookup(t, s, firsts[i].Hash)
			continue
		}
		requireRecordError(t, tokenstore.ErrConflict, err, "create %d", i)
		requireNotFound(t, s, firsts[i].Hash, "a refused grant's token must not be stored")
	}
	require.Equal(t, 1, ok, "exactly one concurrent CreateGrant succeeds")
}

// RunConcurrentInstances checks that several instances of one shared store
// (two clients of the same Redis, two pools on the same PostgreSQL
// database, ...) agree on rotation: it creates a grant through stores[0],
// presents its first token n times at once, spread across the instances,
// and requires exactly one success, every other presentation failing with
// ErrReused or ErrRevoked, and the family revoked as seen by every
// instance. stores must share their records and hold nothing else of the
// caller's; n should be at least 2*len(stores).
func RunConcurrentInstances(t *testing.T, stores []tokenstore.Store, n int) {
	t.Helper()
	require.NotEmpty(t, stores, "stores")
	require.Positive(t, n, "n")
	now := time.Now().UTC().Truncate(Precision)
	g := NewGrant(now)
	first := CreateFamily(t, stores[0], g)
	for i, s := range stores {
		gotGrant, tok := lookup(t, s, first.Hash)
		require.Equal(t, g.ID, gotGrant.ID, "store %d sees the grant", i)
		require.Equal(t, 1, tok.Generation)
	}

	at := now.Add(time.Minute)
	out := presentConcurrently(t, stores, first.Hash, n, at, 0)
	winner := requireOneWinner(t, out)
	if n > 1 {
		requireFamilyRevoked(t, stores, g, out, winner, at)
	}
}
