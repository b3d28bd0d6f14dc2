package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func codeConcurrencyTests() []codeTest {
	return []codeTest{
		{"SameCode", func(t *testing.T, h codeHarness) {
			testConcurrentRedeem(t, []FullStore{h.newStore(t)}, Presenters, h.base)
		}},
		{"SameCodeMixed", testConcurrentRedeemMixed},
		{"SameGrantID", testConcurrentCreateCode},
		{"SameLaunch", func(t *testing.T, h codeHarness) {
			testConcurrentConsumeLaunch(t, []FullStore{h.newStore(t)}, Presenters, h.base)
		}},
	}
}

// redemption is the outcome of one concurrent RedeemCode.
type redemption struct {
	req tokenstore.RedeemRequest
	res tokenstore.RedeemResult
	err error
	// grantCalls is how many times the store called req.Grant.
	grantCalls atomic.Int32
}

// redeemConcurrently presents c n times at once, the i-th time through
// stores[i%len(stores)] with the request edit(i, Redemption(c, now))
// makes, now being skewed(at, i, n).
func redeemConcurrently(t *testing.T, stores []FullStore, c tokenstore.AuthorizationCode, n int, at time.Time, edit func(i int, r *tokenstore.RedeemRequest)) []*redemption {
	t.Helper()
	out := make([]*redemption, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		o := &redemption{req: Redemption(c, skewed(at, i, n))}
		if edit != nil {
			edit(i, &o.req)
		}
		grant := o.req.Grant
		o.req.Grant = func(c tokenstore.AuthorizationCode) tokenstore.GrantTemplate {
			o.grantCalls.Add(1)
			return grant(c)
		}
		out[i] = o
		s := stores[i%len(stores)]
		wg.Go(func() {
			<-start
			o.res, o.err = s.RedeemCode(t.Context(), o.req)
		})
	}
	close(start)
	wg.Wait()
	for i, o := range out {
		require.LessOrEqual(t, o.grantCalls.Load(), int32(1), "redemption %d: Grant is called at most once", i)
	}
	return out
}

// requireRaceRevoked checks, through every store, the state a race of
// redemptions of c must leave when the winner w redeemed it: its grant
// is revoked, and its refresh token is refused with ErrRevoked.
func requireRaceRevoked(t *testing.T, stores []FullStore, c tokenstore.AuthorizationCode, w *redemption, at time.Time) {
	t.Helper()
	for i, s := range stores {
		g := grant(t, s, c.GrantID)
		require.True(t, g.Revoked, "store %d: the grant of a code presented twice is revoked", i)
		sameGrant(t, withRevocation(g, w.res.Grant), g)
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: Ref(w.res.Token), Next: NewHash(), ClientID: c.ClientID, Now: at.Add(ClockSkew + time.Second),
		})
		requireRecordError(t, tokenstore.ErrRevoked, err, "store %d: the winner's refresh token", i)
		requireFamilyInvariant(t, s, at, Ref(w.res.Token))
	}
}

// withRevocation returns want with the revocation fields of got, so that
// sameGrant compares everything else.
func withRevocation(got, want tokenstore.Grant) tokenstore.Grant {
	want.Revoked, want.RevokedAt = got.Revoked, got.RevokedAt
	return want
}

// testConcurrentRedeem: of n concurrent redemptions of one code, exactly
// one succeeds, with its grant and refresh token, and every other one is
// reuse, which leaves that grant revoked and that token dead.
func testConcurrentRedeem(t *testing.T, stores []FullStore, n int, base time.Time) {
	c := NewCode(base)
	createCode(t, stores[0], c)
	at := base.Add(20 * time.Second)
	out := redeemConcurrently(t, stores, c, n, at, nil)

	var winners []*redemption
	for i, o := range out {
		if o.err == nil {
			winners = append(winners, o)
			continue
		}
		requireRecordError(t, tokenstore.ErrReused, o.err, "redemption %d", i)
	}
	require.Len(t, winners, 1, "exactly one concurrent redemption succeeds")
	w := winners[0]
	require.EqualValues(t, 1, w.grantCalls.Load(), "the winner's Grant is called")
	want := c
	want.UsedAt = w.req.Now
	sameCode(t, want, w.res.Code)
	sameGrant(t, GrantFromCode(c, w.req.Now), w.res.Grant)
	require.False(t, w.res.Token.Hash.IsZero(), "the winner gets a refresh token")
	if n == 1 {
		requireRedeemed(t, stores[0], c, w.req.Now, w.res)
		return
	}
	requireRaceRevoked(t, stores, c, w, at)
}

// testConcurrentRedeemMixed: a third of the presenters are another
// client, a third the right client with the wrong code_verifier. Whoever
// comes first consumes the code (success, ErrClientMismatch or
// ErrChallengeMismatch); everyone else is reuse. The grant ends revoked:
// the winner's, or the placeholder if nobody redeemed the code.
func testConcurrentRedeemMixed(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	at := h.at(20 * time.Second)
	out := redeemConcurrently(t, []FullStore{s}, c, Presenters, at, func(i int, r *tokenstore.RedeemRequest) {
		switch i % 3 {
		case 1:
			r.ClientID = "another-client"
		case 2:
			r.CodeChallenge = "wrong"
		}
	})

	var first []*redemption
	for i, o := range out {
		switch {
		case o.err == nil:
			require.Zero(t, i%3, "only a right presentation succeeds")
			first = append(first, o)
		case oneOf(o.err, tokenstore.ErrClientMismatch):
			require.Equal(t, 1, i%3)
			first = append(first, o)
		case oneOf(o.err, tokenstore.ErrChallengeMismatch):
			require.Equal(t, 2, i%3)
			first = append(first, o)
		default:
			requireRecordError(t, tokenstore.ErrReused, o.err, "redemption %d", i)
		}
	}
	require.Len(t, first, 1, "exactly one presentation consumes the code")
	if first[0].err == nil {
		requireRaceRevoked(t, []FullStore{s}, c, first[0], at)
		return
	}
	g := grant(t, s, c.GrantID)
	require.True(t, g.Revoked, "the reuse left the placeholder, revoked")
	require.Empty(t, g.Kind, "the grant is the placeholder")
}

// testConcurrentCreateCode: of concurrent CreateCode calls for one grant
// ID, exactly one succeeds, and only its code can be redeemed.
func testConcurrentCreateCode(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	grantID := tokenstore.NewID()
	codes := make([]tokenstore.AuthorizationCode, Presenters)
	errs := make([]error, Presenters)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range codes {
		codes[i] = NewCode(h.base)
		codes[i].GrantID = grantID
		_, ref := tokenstore.NewRefreshToken(grantID)
		codes[i].Hash = ref.Hash
		wg.Go(func() {
			<-start
			errs[i] = s.CreateCode(t.Context(), codes[i])
		})
	}
	close(start)
	wg.Wait()

	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			requireRedeem(t, s, codes[i], h.at(time.Second))
			continue
		}
		requireRecordError(t, tokenstore.ErrConflict, err, "create %d", i)
		_, rerr := redeem(t, s, codes[i], ClientID, h.at(time.Second))
		requireRecordError(t, tokenstore.ErrNotFound, rerr, "a refused code must not be stored")
	}
	require.Equal(t, 1, ok, "exactly one concurrent CreateCode succeeds")
}

// testConcurrentConsumeLaunch: of n concurrent ConsumeLaunch calls for
// one launch, exactly one gets it; the others get ErrNotFound.
func testConcurrentConsumeLaunch(t *testing.T, stores []FullStore, n int, base time.Time) {
	l := NewLaunch(base)
	require.NoError(t, stores[0].CreateLaunch(t.Context(), l))
	got := make([]tokenstore.Launch, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range errs {
		s := stores[i%len(stores)]
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.ConsumeLaunch(t.Context(), LaunchRef(l), skewed(base.Add(time.Minute), i, n))
		})
	}
	close(start)
	wg.Wait()

	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			sameLaunch(t, l, got[i])
			continue
		}
		requireRecordError(t, tokenstore.ErrNotFound, err, "consume %d", i)
	}
	require.Equal(t, 1, ok, "exactly one concurrent ConsumeLaunch gets the launch")
}

// RunCodeInstances checks that several instances of one shared store
// (two clients of the same Redis, two pools on the same PostgreSQL
// database, ...) agree on authorization codes and launches: a code
// created through stores[0] and redeemed n times at once, spread across
// the instances with Now values up to ClockSkew apart, succeeds exactly
// once, with its grant and refresh token, and every instance then sees
// that grant revoked and refuses that token; a launch consumed n times at
// once is taken exactly once.
//
// stores must share their records and hold nothing else of the caller's;
// n should be at least 2*len(stores).
func RunCodeInstances(t *testing.T, stores []FullStore, n int) {
	t.Helper()
	require.NotEmpty(t, stores, "stores")
	require.Positive(t, n, "n")
	base := time.Now().UTC().Truncate(Precision)
	t.Run("SameCode", func(t *testing.T) { testConcurrentRedeem(t, stores, n, base) })
	t.Run("SameLaunch", func(t *testing.T) { testConcurrentConsumeLaunch(t, stores, n, base) })
}
