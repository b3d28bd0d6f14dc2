package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// retryWindow is the RetryWindow of the tests that present a token again
// within the window: far longer than any of them takes.
const retryWindow = 30 * time.Second

// retryTests cover rule 5 of Rotate with a retry window: what is a retry,
// what a retry does (it supersedes the previous successor), and what is
// reuse all the same. Rule 2 (another client never retries) is covered by
// Rotate/ClientMismatch and Rotate/RuleOrder.
func retryTests() []test {
	return []test{
		{"WithinWindow", testRetryWithinWindow},
		{"SupersededSuccessorPresented", testRetrySupersededPresented},
		{"AfterSuccessorUsed", testRetryAfterSuccessorUsed},
		{"AfterWindow", testRetryAfterWindow},
		{"SuccessorGone", testRetrySuccessorGone},
	}
}

// retry presents the token presented at now within retryWindow and
// requires it to succeed as a retry.
func retry(t *testing.T, s tokenstore.Store, presented tokenstore.TokenRef, now time.Time) tokenstore.RotateResult {
	t.Helper()
	next := NewHash()
	res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: presented, Next: next, ClientID: ClientID, Now: now, RetryWindow: retryWindow,
	})
	require.NoError(t, err, "Rotate")
	require.True(t, res.Retry, "Retry")
	require.Equal(t, next, res.Token.Hash)
	return res
}

// requireSuperseded requires the token ref names to be dead: used (at
// usedAt, the Now of the retry that superseded it), failing Check with
// ErrReused while its grant is not revoked.
func requireSuperseded(t *testing.T, s tokenstore.Store, ref tokenstore.TokenRef, usedAt time.Time) {
	t.Helper()
	g, tok := lookup(t, s, ref)
	sameTime(t, usedAt, tok.UsedAt, "UsedAt of the superseded token")
	require.False(t, g.Revoked, "a retry does not revoke")
	require.ErrorIs(t, tok.Check(g, usedAt), tokenstore.ErrReused, "Check of the superseded token")
}

// testRetryWithinWindow: the token is presented again within the window,
// with the presenter's clock behind and then ahead: each time it is a
// retry that supersedes the previous successor, and only the last
// successor is live.
func testRetryWithinWindow(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	g.IdleTimeout = time.Hour
	first := CreateFamily(t, s, g)
	usedAt := h.at(time.Minute)
	s1 := RequireRotate(t, s, Ref(first), usedAt).Token

	behind := usedAt.Add(-3 * time.Second)
	res := retry(t, s, Ref(first), behind)
	sameGrant(t, g, res.Grant)
	sameToken(t, tokenstore.RefreshToken{
		Hash: res.Token.Hash, GrantID: g.ID, Generation: 2, IssuedAt: behind, ExpiresAt: g.NextExpiry(behind),
	}, res.Token)
	s2 := res.Token
	requireSuperseded(t, s, Ref(s1), behind)
	_, old := lookup(t, s, Ref(first))
	sameTime(t, usedAt, old.UsedAt, "UsedAt of the presented token keeps its first use")
	require.Equal(t, 2, requireFamilyInvariant(t, s, usedAt, Ref(first), Ref(s1), Ref(s2)))

	ahead := usedAt.Add(2 * time.Second)
	s3 := retry(t, s, Ref(first), ahead).Token
	assert.Equal(t, 2, s3.Generation)
	requireSuperseded(t, s, Ref(s2), ahead)
	refs := []tokenstore.TokenRef{Ref(first), Ref(s1), Ref(s2), Ref(s3)}
	require.Equal(t, 3, requireFamilyInvariant(t, s, ahead, refs...))

	// The live successor rotates as usual.
	s4 := RequireRotate(t, s, Ref(s3), ahead.Add(time.Second)).Token
	assert.Equal(t, 3, s4.Generation)
	require.Equal(t, 4, requireFamilyInvariant(t, s, ahead.Add(time.Second), append(refs, Ref(s4))...))
}

// testRetrySupersededPresented: a successor superseded by a retry is dead:
// presenting it is reuse, retry window or not.
func testRetrySupersededPresented(t *testing.T, h harness) {
	for _, window := range []time.Duration{0, retryWindow} {
		t.Run(window.String(), func(t *testing.T) {
			s := h.newStore(t)
			g := NewGrant(h.base)
			first := CreateFamily(t, s, g)
			s1 := RequireRotate(t, s, Ref(first), h.at(time.Minute)).Token
			s2 := retry(t, s, Ref(first), h.at(time.Minute+time.Second)).Token
			refs := []tokenstore.TokenRef{Ref(first), Ref(s1), Ref(s2)}
			presentReused(t, s, g, refs, Ref(s1), h.at(time.Minute+2*time.Second), window)
		})
	}
}

// testRetryAfterSuccessorUsed: once the successor has been used, the
// token it replaced can no longer be retried: presenting it is reuse.
func testRetryAfterSuccessorUsed(t *testing.T, h harness) {
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	s1 := RequireRotate(t, s, Ref(first), h.at(time.Minute)).Token
	s2 := RequireRotate(t, s, Ref(s1), h.at(time.Minute+time.Second)).Token
	refs := []tokenstore.TokenRef{Ref(first), Ref(s1), Ref(s2)}
	presentReused(t, s, g, refs, Ref(first), h.at(time.Minute+2*time.Second), retryWindow)
}

// testRetryAfterWindow: a second presentation once the window has passed
// on the store's clock is reuse. The window is short and the test sleeps
// three times its length: the sleep can only make the window pass.
func testRetryAfterWindow(t *testing.T, h harness) {
	const window = 50 * time.Millisecond
	s := h.newStore(t)
	g := NewGrant(h.base)
	first := CreateFamily(t, s, g)
	s1 := RequireRotate(t, s, Ref(first), h.at(time.Minute)).Token
	time.Sleep(3 * window)
	// The Now of the request is the first one's: only the store's clock
	// tells the window has passed.
	presentReused(t, s, g, []tokenstore.TokenRef{Ref(first), Ref(s1)}, Ref(first), h.at(time.Minute), window)
}

// testRetrySuccessorGone: a retry needs the successor alive. Once it has
// expired at the Now of the retry, or been removed, the retry is reuse.
// (The presented token outlives its successor here: it was issued to live
// until the grant expires, and the grant's idle timeout is short.)
func testRetrySuccessorGone(t *testing.T, h harness) {
	cases := []struct {
		name  string
		sweep bool // remove the expired successor first (stores that are Sweepers)
	}{
		{"Expired", false},
		{"Removed", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			sweeper, ok := s.(tokenstore.Sweeper)
			if tc.sweep && !ok {
				t.Skip("the store is not a tokenstore.Sweeper")
			}
			g := NewGrant(h.base)
			g.IdleTimeout = 10 * time.Minute
			first := FirstToken(g)
			first.ExpiresAt = g.ExpiresAt
			require.NoError(t, s.CreateGrant(t.Context(), g, first))
			s1 := RequireRotate(t, s, Ref(first), h.at(time.Minute)).Token
			sameTime(t, h.at(11*time.Minute), s1.ExpiresAt, "ExpiresAt of the successor")
			now := h.at(11 * time.Minute)
			if tc.sweep {
				now = h.at(12 * time.Minute)
				_, err := sweeper.Sweep(t.Context(), now)
				require.NoError(t, err)
				requireNotFound(t, s, Ref(s1), "Sweep removes the expired successor")
			}
			// s1 has expired: the store may have removed it.
			presentReused(t, s, g, []tokenstore.TokenRef{Ref(first)}, Ref(first), now, retryWindow)
		})
	}
}
