package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func codeConcurrencyTests() []codeTest {
	return []codeTest{
		{"SameCode", func(t *testing.T, h codeHarness) {
			testConcurrentRedeem(t, []FullStore{h.newStore(t)}, Presenters, h.base, false)
		}},
		{"SameCodeWinnerCreatesGrant", func(t *testing.T, h codeHarness) {
			testConcurrentRedeem(t, []FullStore{h.newStore(t)}, Presenters, h.base, true)
		}},
		{"SameCodeTwoClients", testConcurrentRedeemTwoClients},
		{"SameGrantID", testConcurrentCreateCode},
		{"SameLaunch", func(t *testing.T, h codeHarness) {
			testConcurrentConsumeLaunch(t, []FullStore{h.newStore(t)}, Presenters, h.base)
		}},
	}
}

// redemption is the outcome of one concurrent RedeemCode.
type redemption struct {
	client string
	now    time.Time
	code   tokenstore.AuthorizationCode
	err    error
	// Set for the winner when it goes on to create the grant.
	created    bool
	createErr  error
	grant      tokenstore.Grant
	firstToken tokenstore.RefreshToken
}

// redeemConcurrently presents c n times at once, the i-th time through
// stores[i%len(stores)] on behalf of client(i) with Now skewed(at, i, n).
// If create is set, a presenter that succeeds creates the grant at once,
// as the authorization server does, while the others are still running.
func redeemConcurrently(t *testing.T, stores []FullStore, c tokenstore.AuthorizationCode, n int, at time.Time, client func(i int) string, create bool) []redemption {
	t.Helper()
	out := make([]redemption, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		out[i].client = client(i)
		out[i].now = skewed(at, i, n)
		s := stores[i%len(stores)]
		wg.Go(func() {
			<-start
			o := &out[i]
			o.code, o.err = s.RedeemCode(t.Context(), tokenstore.RedeemRequest{Code: CodeRef(c), ClientID: o.client, Now: o.now})
			if o.err != nil || !create {
				return
			}
			o.created = true
			o.grant = GrantFromCode(o.code, o.now)
			o.firstToken = FirstToken(o.grant)
			o.createErr = s.CreateGrant(t.Context(), o.grant, o.firstToken)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// requireGrantRevokedAfterRace checks, through every store, the state a
// race of redemptions of c must leave: the grant c names is revoked. If
// the winner created it before any reuse reached the store, its first
// token is refused with ErrRevoked; otherwise the creation failed with
// ErrConflict, the placeholder of the first reuse stands in its place and
// the winner's token was never stored.
func requireGrantRevokedAfterRace(t *testing.T, stores []FullStore, c tokenstore.AuthorizationCode, winner redemption) {
	t.Helper()
	for i, s := range stores {
		g := grant(t, s, c.GrantID)
		require.True(t, g.Revoked, "store %d: the grant of a code presented twice is revoked", i)
		if !winner.created {
			continue
		}
		if winner.createErr == nil {
			sameGrant(t, withRevocation(g, winner.grant), g)
			_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
				Presented: Ref(winner.firstToken), Next: NewHash(), ClientID: c.ClientID, Now: winner.now.Add(ClockSkew + time.Second),
			})
			requireRecordError(t, tokenstore.ErrRevoked, err, "store %d: the winner's refresh token", i)
			continue
		}
		requireRecordError(t, tokenstore.ErrConflict, winner.createErr, "the winner's CreateGrant")
		require.Empty(t, g.Kind, "store %d: the grant is the placeholder", i)
		requireNotFound(t, s, Ref(winner.firstToken), "the winner's refused token must not be stored")
	}
}

// withRevocation returns want with the revocation fields of got, so that
// sameGrant compares everything else.
func withRevocation(got, want tokenstore.Grant) tokenstore.Grant {
	want.Revoked, want.RevokedAt = got.Revoked, got.RevokedAt
	return want
}

// testConcurrentRedeem: of n concurrent redemptions of one code, exactly
// one succeeds and every other one is reuse, which leaves the grant
// revoked, whether the winner creates it during the race or after.
func testConcurrentRedeem(t *testing.T, stores []FullStore, n int, base time.Time, create bool) {
	c := NewCode(base)
	createCode(t, stores[0], c)
	out := redeemConcurrently(t, stores, c, n, base.Add(20*time.Second), func(int) string { return ClientID }, create)

	var winners []redemption
	for i, o := range out {
		if o.err == nil {
			winners = append(winners, o)
			continue
		}
		requireRecordError(t, tokenstore.ErrReused, o.err, "redemption %d", i)
	}
	require.Len(t, winners, 1, "exactly one concurrent redemption succeeds")
	w := winners[0]
	want := c
	want.UsedAt = w.now
	sameCode(t, want, w.code)
	if !create {
		// Every loser reached the store after the winner and before this.
		w.created = true
		w.grant = GrantFromCode(w.code, w.now)
		w.firstToken = FirstToken(w.grant)
		w.createErr = stores[0].CreateGrant(t.Context(), w.grant, w.firstToken)
		if n > 1 {
			requireRecordError(t, tokenstore.ErrConflict, w.createErr, "creating the grant after the reuse")
		}
	}
	if n > 1 {
		requireGrantRevokedAfterRace(t, stores, c, w)
	}
}

// testConcurrentRedeemTwoClients: half the presenters are another client.
// Whoever comes first consumes the code (success, or ErrClientMismatch);
// everyone else is reuse.
func testConcurrentRedeemTwoClients(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	c := NewCode(h.base)
	createCode(t, s, c)
	client := func(i int) string {
		if i%2 == 1 {
			return "another-client"
		}
		return ClientID
	}
	out := redeemConcurrently(t, []FullStore{s}, c, Presenters, h.at(20*time.Second), client, false)

	first := 0
	for i, o := range out {
		switch {
		case o.err == nil:
			require.Equal(t, ClientID, o.client)
			first++
		case oneOf(o.err, tokenstore.ErrClientMismatch):
			require.Equal(t, "another-client", o.client)
			first++
		default:
			requireRecordError(t, tokenstore.ErrReused, o.err, "redemption %d", i)
		}
	}
	require.Equal(t, 1, first, "exactly one presentation consumes the code")
	require.True(t, grant(t, s, c.GrantID).Revoked, "the reuse left the grant revoked")
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
// once, the winner creating the grant at once, and every instance then
// sees the grant revoked; a launch consumed n times at once is taken
// exactly once.
//
// stores must share their records and hold nothing else of the caller's;
// n should be at least 2*len(stores).
func RunCodeInstances(t *testing.T, stores []FullStore, n int) {
	t.Helper()
	require.NotEmpty(t, stores, "stores")
	require.Positive(t, n, "n")
	base := time.Now().UTC().Truncate(Precision)
	t.Run("SameCode", func(t *testing.T) { testConcurrentRedeem(t, stores, n, base, true) })
	t.Run("SameLaunch", func(t *testing.T) { testConcurrentConsumeLaunch(t, stores, n, base) })
}
