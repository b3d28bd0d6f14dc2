package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func launchTests() []codeTest {
	return []codeTest{
		{"RoundTrip", testLaunchRoundTrip},
		{"SingleUse", testLaunchSingleUse},
		{"Expired", testLaunchExpired},
		{"JustBeforeExpiry", testLaunchJustBeforeExpiry},
		{"Unknown", testLaunchUnknown},
		{"Duplicate", testLaunchDuplicate},
	}
}

// sameLaunch asserts that got has every field of want. A nil and an empty
// LaunchContext are the same.
func sameLaunch(t testing.TB, want, got tokenstore.Launch) {
	t.Helper()
	assert.Equal(t, want.Hash, got.Hash, "Launch.Hash")
	assert.Equal(t, want.ClientID, got.ClientID, "Launch.ClientID")
	assert.Truef(t, bytes.Equal(want.LaunchContext, got.LaunchContext),
		"Launch.LaunchContext: want %q, got %q", want.LaunchContext, got.LaunchContext)
	sameTime(t, want.IssuedAt, got.IssuedAt, "Launch.IssuedAt")
	sameTime(t, want.ExpiresAt, got.ExpiresAt, "Launch.ExpiresAt")
}

// requireConsume consumes l at now and requires it back as stored.
func requireConsume(t testing.TB, s tokenstore.CodeStore, l tokenstore.Launch, now time.Time) {
	t.Helper()
	got, err := s.ConsumeLaunch(t.Context(), LaunchRef(l), now)
	require.NoError(t, err, "ConsumeLaunch")
	sameLaunch(t, l, got)
}

func testLaunchRoundTrip(t *testing.T, h codeHarness) {
	cases := []struct {
		name string
		edit func(l *tokenstore.Launch)
	}{
		{"AllFields", func(*tokenstore.Launch) {}},
		{"AnyClient", func(l *tokenstore.Launch) { l.ClientID = "" }},
		{"NilLaunchContext", func(l *tokenstore.Launch) { l.LaunchContext = nil }},
		{"BinaryLaunchContext", func(l *tokenstore.Launch) {
			l.LaunchContext = []byte{0x00, 0xff, 0xfe, '"', '\\', '\n', 0x80, 0x00}
		}},
		{"OddTimes", func(l *tokenstore.Launch) { l.ExpiresAt = l.IssuedAt.Add(1500 * time.Millisecond) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			l := NewLaunch(h.base)
			tc.edit(&l)
			require.NoError(t, s.CreateLaunch(t.Context(), l))
			requireConsume(t, s, l, h.at(time.Second))
		})
	}
}

// testLaunchSingleUse: once consumed, a launch is unknown, and other
// launches are not affected.
func testLaunchSingleUse(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	l, other := NewLaunch(h.base), NewLaunch(h.base)
	require.NoError(t, s.CreateLaunch(t.Context(), l))
	require.NoError(t, s.CreateLaunch(t.Context(), other))
	requireConsume(t, s, l, h.at(time.Second))
	for i, now := range []time.Time{h.at(time.Second), h.at(2 * time.Second), h.base} {
		_, err := s.ConsumeLaunch(t.Context(), LaunchRef(l), now)
		requireRecordError(t, tokenstore.ErrNotFound, err, "presentation %d", i+2)
	}
	requireConsume(t, s, other, h.at(2*time.Second))
}

// testLaunchExpired: a launch presented at or after its expiry is
// ErrExpired, and consumed all the same.
func testLaunchExpired(t *testing.T, h codeHarness) {
	cases := []struct {
		name  string
		after time.Duration // after ExpiresAt
	}{
		{"Exactly", 0},
		{"Later", time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			l := NewLaunch(h.base)
			require.NoError(t, s.CreateLaunch(t.Context(), l))
			now := l.ExpiresAt.Add(tc.after)
			_, err := s.ConsumeLaunch(t.Context(), LaunchRef(l), now)
			requireRecordError(t, tokenstore.ErrExpired, err)
			_, err = s.ConsumeLaunch(t.Context(), LaunchRef(l), now)
			requireRecordError(t, tokenstore.ErrNotFound, err, "an expired launch is consumed too")
		})
	}
}

func testLaunchJustBeforeExpiry(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	l := NewLaunch(h.base)
	require.NoError(t, s.CreateLaunch(t.Context(), l))
	requireConsume(t, s, l, l.ExpiresAt.Add(-Precision))
}

// testLaunchUnknown: an unknown launch is ErrNotFound, whatever grant its
// TokenRef names (launch values name none; the field is ignored).
func testLaunchUnknown(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	l := NewLaunch(h.base)
	require.NoError(t, s.CreateLaunch(t.Context(), l))
	for _, ref := range []tokenstore.TokenRef{{Hash: NewHash()}, {Hash: NewHash(), GrantID: tokenstore.NewID()}} {
		_, err := s.ConsumeLaunch(t.Context(), ref, h.at(time.Second))
		requireRecordError(t, tokenstore.ErrNotFound, err)
	}
	c := NewCode(h.base)
	createCode(t, s, c)
	_, err := s.ConsumeLaunch(t.Context(), CodeRef(c), h.at(time.Second))
	requireRecordError(t, tokenstore.ErrNotFound, err, "a code is not a launch")
	requireConsume(t, s, l, h.at(time.Second))
	requireRedeem(t, s, c, h.at(time.Second))
}

// testLaunchDuplicate: a launch with the hash of a stored one is refused
// and nothing of it is written.
func testLaunchDuplicate(t *testing.T, h codeHarness) {
	s := h.newStore(t)
	l := NewLaunch(h.base)
	require.NoError(t, s.CreateLaunch(t.Context(), l))
	requireRecordError(t, tokenstore.ErrConflict, s.CreateLaunch(t.Context(), l), "the same launch twice")

	dup := NewLaunch(h.at(time.Second))
	dup.Hash = l.Hash
	dup.ClientID = "other-client"
	dup.LaunchContext = []byte(`{"patient":"someone-else"}`)
	requireRecordError(t, tokenstore.ErrConflict, s.CreateLaunch(t.Context(), dup))
	requireConsume(t, s, l, h.at(2*time.Second))
}
