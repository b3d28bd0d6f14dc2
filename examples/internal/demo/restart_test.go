package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testRedisURL is the shared test Redis (SMARTAUTH_REDIS_URL), as in the
// store tests.
func testRedisURL() string {
	if u := os.Getenv("SMARTAUTH_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// redisPrefix returns a key prefix of the test's own on the shared test
// Redis, and deletes the keys with that prefix when the test ends. It
// skips the test if Redis does not answer (fails it with
// SMARTAUTH_REQUIRE_SERVICES=1).
func redisPrefix(t *testing.T, rawURL string) string {
	t.Helper()
	opt, err := redis.ParseURL(rawURL)
	require.NoError(t, err)
	opt.MaxRetries = -1
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("SMARTAUTH_REQUIRE_SERVICES") == "1" {
			t.Fatalf("redis not reachable (%v) (SMARTAUTH_REQUIRE_SERVICES=1: not skipping)", err)
		}
		t.Skipf("redis not reachable at SMARTAUTH_REDIS_URL or 127.0.0.1:6379 (%v)", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "smartauth-test:demo-" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				t.Errorf("redis cleanup: %v", err)
				return
			}
		}
		if err := iter.Err(); err != nil {
			t.Errorf("redis cleanup: %v", err)
		}
	})
	return prefix
}

// TestRestartAgainstRedisPrintsWorkingCommand: a demo started twice
// against one Redis store (the seed grant, its fixed token used at the
// first start, is already there at the second) prints, at each start, a
// command that works.
func TestRestartAgainstRedisPrintsWorkingCommand(t *testing.T) {
	rawURL := testRedisURL()
	prefix := redisPrefix(t, rawURL)
	cfg := DefaultConfig()
	seed := cfg.Grants[0].RefreshToken

	start := func() (*Server, string) {
		store, closeStore, err := OpenStore(context.Background(), rawURL, StoreOptions{RedisPrefix: prefix})
		require.NoError(t, err)
		t.Cleanup(closeStore)
		ts := httptest.NewUnstartedServer(nil)
		t.Cleanup(ts.Close)
		srv, err := New(context.Background(), Options{
			BaseURL: "http://" + ts.Listener.Addr().String(), Store: store,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		require.NoError(t, err)
		ts.Config.Handler = srv.Handler
		ts.Start()
		var out bytes.Buffer
		PrintWelcome(&out, srv, cfg)
		return srv, out.String()
	}

	srv1, welcome1 := start()
	// The first start also uses the seed's fixed token, as the SMART
	// launcher's exchange does.
	resp, tok := postForm(t, srv1.TokenURL, seedBasic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {seed}})
	require.Equal(t, 200, resp.StatusCode, tok)
	got := runShell(t, welcomeCommands(t, welcome1))
	require.Contains(t, got, `"id": "`+seedPatient+`"`)

	srv2, welcome2 := start()
	assert.NotEqual(t, srv1.DemoGrant.RefreshToken, srv2.DemoGrant.RefreshToken)
	got = runShell(t, welcomeCommands(t, welcome2))
	assert.Contains(t, got, `"patient":"`+seedPatient+`"`)
	assert.Contains(t, got, `"id": "`+seedPatient+`"`)
	// The seed's token, already used at the first start, is refused.
	resp, tok = postForm(t, srv2.TokenURL, seedBasic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {seed}})
	assert.Equal(t, 400, resp.StatusCode)
	assert.Equal(t, "invalid_grant", tok["error"])
}
