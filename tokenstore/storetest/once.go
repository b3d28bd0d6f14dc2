package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

func useOnceTests() []test {
	return []test{
		{"Replay", testUseOnceReplay},
		{"DistinctKeys", testUseOnceDistinctKeys},
		{"AfterExpiry", testUseOnceAfterExpiry},
		{"ReplayDoesNotExtend", testUseOnceReplayDoesNotExtend},
	}
}

func testUseOnceReplay(t *testing.T, h harness) {
	s := h.newStore(t)
	exp := h.at(5 * time.Minute)
	require.NoError(t, s.UseOnce(t.Context(), "jti:app:1", exp, h.base))

	for _, now := range []time.Time{h.base, h.at(time.Minute), exp.Add(-Precision)} {
		err := s.UseOnce(t.Context(), "jti:app:1", exp, now)
		requireRecordError(t, tokenstore.ErrReplayed, err, "replay at %s", now.UTC())
	}
}

func testUseOnceDistinctKeys(t *testing.T, h harness) {
	s := h.newStore(t)
	exp := h.at(5 * time.Minute)
	keys := []string{
		"jti:app:abc",
		"jti:App:abc",
		"jti:app:ab",
		"jti:app:abc ",
		"jti:other:abc",
		"jti:app:ünïcode-患者",
		"jti:app:" + strings.Repeat("x", 512),
		"*",
		"jti:app:{tag}",
	}
	for _, key := range keys {
		require.NoError(t, s.UseOnce(t.Context(), key, exp, h.base), "first use of %q", key)
	}
	for _, key := range keys {
		err := s.UseOnce(t.Context(), key, exp, h.at(time.Second))
		requireRecordError(t, tokenstore.ErrReplayed, err, "replay of %q", key)
	}
}

func testUseOnceAfterExpiry(t *testing.T, h harness) {
	cases := []struct {
		name  string
		after time.Duration // after the first expiry
	}{
		{"Exactly", 0},
		{"Later", time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.newStore(t)
			exp := h.at(5 * time.Minute)
			require.NoError(t, s.UseOnce(t.Context(), "k", exp, h.base))

			now := exp.Add(tc.after)
			exp2 := now.Add(5 * time.Minute)
			require.NoError(t, s.UseOnce(t.Context(), "k", exp2, now), "use after expiry")
			err := s.UseOnce(t.Context(), "k", exp2, now.Add(time.Minute))
			requireRecordError(t, tokenstore.ErrReplayed, err, "the new use is recorded")
		})
	}
}

func testUseOnceReplayDoesNotExtend(t *testing.T, h harness) {
	s := h.newStore(t)
	exp := h.at(5 * time.Minute)
	require.NoError(t, s.UseOnce(t.Context(), "k", exp, h.base))
	err := s.UseOnce(t.Context(), "k", h.at(time.Hour), h.at(time.Minute))
	requireRecordError(t, tokenstore.ErrReplayed, err)
	require.NoError(t, s.UseOnce(t.Context(), "k", h.at(time.Hour), exp), "a refused replay must not extend the record")
}
