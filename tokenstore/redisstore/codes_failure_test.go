package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// TestCodesServerDown: while Redis is unreachable every code method fails
// with a store error, and nothing is consumed.
func TestCodesServerDown(t *testing.T) {
	c, proxy := proxiedClient(t, nil)
	s := redisstore.New(c, redisstore.Options{Prefix: newPrefix(t, newClient(t, nil))})
	now := time.Now().UTC().Truncate(time.Millisecond)
	code, launch := storetest.NewCode(now), storetest.NewLaunch(now)
	require.NoError(t, s.CreateCode(t.Context(), code))
	require.NoError(t, s.CreateLaunch(t.Context(), launch))

	proxy.Down()
	ctx := t.Context()
	requireStoreError(t, s.CreateCode(ctx, storetest.NewCode(now)))
	requireStoreError(t, s.CreateLaunch(ctx, storetest.NewLaunch(now)))
	_, err := s.RedeemCode(ctx, storetest.Redemption(code, now))
	requireStoreError(t, err)
	_, err = s.ConsumeLaunch(ctx, storetest.LaunchRef(launch), now)
	requireStoreError(t, err)

	proxy.Up()
	_, err = s.RedeemCode(ctx, storetest.Redemption(code, now))
	require.NoError(t, err)
	_, err = s.ConsumeLaunch(ctx, storetest.LaunchRef(launch), now)
	require.NoError(t, err)
}

// TestCodesReplyLost: a code script ran but its reply was lost. When
// go-redis resends it, the resend recognises its own call (its nonce) and
// answers as the first run did: the creation succeeds, the redemption
// returns the code and its grant rather than ErrReused (and revokes
// nothing), the launch is returned. Without resend the caller sees a
// store error, and the records stay as the run left them: the code or
// launch is consumed, the grant created.
func TestCodesReplyLost(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	cases := []struct {
		name       string
		maxRetries int
		resent     bool
	}{
		{"ClientRetries", 0, true}, // default: 3 retries
		{"NoRetries", -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, proxy := proxiedClient(t, func(o *redis.Options) { o.MaxRetries = tc.maxRetries })
			s := redisstore.New(c, redisstore.Options{Prefix: newPrefix(t, newClient(t, nil))})
			ctx := t.Context()
			// Load the scripts.
			warm, warmLaunch := storetest.NewCode(now), storetest.NewLaunch(now)
			require.NoError(t, s.CreateCode(ctx, warm))
			_, err := s.RedeemCode(ctx, storetest.Redemption(warm, now))
			require.NoError(t, err)
			require.NoError(t, s.CreateLaunch(ctx, warmLaunch))
			_, err = s.ConsumeLaunch(ctx, storetest.LaunchRef(warmLaunch), now)
			require.NoError(t, err)

			code, launch := storetest.NewCode(now), storetest.NewLaunch(now)
			proxy.DropNextReply()
			err = s.CreateCode(ctx, code)
			if tc.resent {
				require.NoError(t, err)
			} else {
				requireStoreError(t, err)
			}
			require.ErrorIs(t, s.CreateCode(ctx, code), tokenstore.ErrConflict, "another call finds the code")

			// RedeemCode reads the code, calls Grant, then runs the
			// script: drop the script's reply.
			req := storetest.Redemption(code, now)
			template := req.Grant
			req.Grant = func(c tokenstore.AuthorizationCode) tokenstore.GrantTemplate {
				proxy.DropNextReply()
				return template(c)
			}
			got, err := s.RedeemCode(ctx, req)
			if tc.resent {
				require.NoError(t, err)
				require.Equal(t, code.GrantID, got.Grant.ID)
				require.True(t, now.Equal(got.Code.UsedAt))
				g, err := s.Grant(ctx, code.GrantID)
				require.NoError(t, err)
				require.False(t, g.Revoked, "the resend is not reuse")
				storetest.RequireRotate(t, s, storetest.Ref(got.Token), now.Add(time.Second))
			} else {
				requireStoreError(t, err)
				g, err := s.Grant(ctx, code.GrantID)
				require.NoError(t, err, "the run created the grant")
				require.False(t, g.Revoked)
			}
			_, err = s.RedeemCode(ctx, storetest.Redemption(code, now))
			require.ErrorIs(t, err, tokenstore.ErrReused, "another call is reuse")
			g, err := s.Grant(ctx, code.GrantID)
			require.NoError(t, err)
			require.True(t, g.Revoked)

			require.NoError(t, s.CreateLaunch(ctx, launch))
			proxy.DropNextReply()
			gotLaunch, err := s.ConsumeLaunch(ctx, storetest.LaunchRef(launch), now)
			if tc.resent {
				require.NoError(t, err)
				require.Equal(t, launch.LaunchContext, gotLaunch.LaunchContext)
			} else {
				requireStoreError(t, err)
			}
			_, err = s.ConsumeLaunch(ctx, storetest.LaunchRef(launch), now)
			require.ErrorIs(t, err, tokenstore.ErrNotFound, "another call finds the launch consumed")
		})
	}
}
