package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// reuseTests cover rule 5 of Rotate without retry window: every second
// presentation of a token is reuse, whatever its Now.
func reuseTests() []test {
	return []test{
		{"RevokesFamily", testReuseRevokesFamily},
		{"SecondPresentationAnyTime", testReuseAnyTime},
	}
}

// chain creates a family and rotates it n times, a minute apart, returning
// the grant and the refs of its tokens, oldest first.
func chain(t *testing.T, h harness, s tokenstore.Store, n int) (tokenstore.Grant, []tokenstore.TokenRef) {
	t.Helper()
	g := NewGrant(h.base)
	refs := []tokenstore.TokenRef{Ref(CreateFamily(t, s, g))}
	for i := 1; i <= n; i++ {
		res := RequireRotate(t, s, refs[i-1], h.at(time.Duration(i)*time.Minute))
		refs = append(refs, Ref(res.Token))
	}
	return g, refs
}

// presentReused presents the token presented at now with the given retry
// window, expecting ErrReused, and checks that the whole family (the tokens
// refs names, every token any presenter received) is revoked at now.
func presentReused(t *testing.T, s tokenstore.Store, g tokenstore.Grant, refs []tokenstore.TokenRef, presented tokenstore.TokenRef, now time.Time, window time.Duration) {
	t.Helper()
	next := NewHash()
	_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: presented, Next: next, ClientID: ClientID, Now: now, RetryWindow: window,
	})
	requireRecordError(t, tokenstore.ErrReused, err)
	requireNotFound(t, s, tokenstore.TokenRef{Hash: next, GrantID: g.ID}, "Next must not be created")

	got := grant(t, s, g.ID)
	require.True(t, got.Revoked, "reuse revokes the grant")
	sameTime(t, now, got.RevokedAt, "RevokedAt")
	requireFamilyInvariant(t, s, now, refs...)

	for i, ref := range refs {
		gotGrant, tok := lookup(t, s, ref)
		require.ErrorIs(t, tok.Check(gotGrant, now), tokenstore.ErrRevoked, "Check of token %d", i)
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: ref, Next: NewHash(), ClientID: ClientID, Now: now.Add(time.Second), RetryWindow: window,
		})
		requireRecordError(t, tokenstore.ErrRevoked, err, "Rotate of token %d after reuse", i)
	}
}

func testReuseRevokesFamily(t *testing.T, h harness) {
	cases := []struct {
		name      string
		rotations int
		presented int // index of the reused token
	}{
		{"PreviousGeneration", 1, 0},
		{"TwoGenerationsBack", 2, 0},
		{"MiddleOfChain", 4, 2},
		{"LatestUsed", 4, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g, refs := chain(t, h, s, tc.rotations)
			presentReused(t, s, g, refs, refs[tc.presented], h.at(time.Hour), 0)
		})
	}
}

// testReuseAnyTime: without retry window, a second presentation is reuse
// whatever its Now: later than the first one's, the same, or earlier (a
// presenter whose clock is behind gains nothing).
func testReuseAnyTime(t *testing.T, h harness) {
	cases := []struct {
		name  string
		after time.Duration // from the first presentation's Now
	}{
		{"Later", 5 * time.Minute},
		{"SameInstant", 0},
		{"OneMillisecondEarlier", -Precision},
		{"FiveSecondsEarlier", -5 * time.Second},
		{"TwoMinutesEarlier", -2 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			g := NewGrant(h.base.Add(-time.Hour))
			first := CreateFamily(t, s, g)
			usedAt := h.at(time.Minute)
			res := RequireRotate(t, s, Ref(first), usedAt)
			presentReused(t, s, g, []tokenstore.TokenRef{Ref(first), Ref(res.Token)}, Ref(first), usedAt.Add(tc.after), 0)
		})
	}
}
