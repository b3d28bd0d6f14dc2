package demo

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// TestOpenStoreRedisHonoursContextDeadline: the demo's Redis client gives
// up at the context's deadline (ContextTimeoutEnabled), not at its own
// read timeout, so that the token endpoint's StoreTimeout bounds every
// command. The server here accepts connections and never answers.
func TestOpenStoreRedisHonoursContextDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()

	// Without the context deadline, the client would wait out its read
	// timeout of an hour.
	rawURL := "redis://" + ln.Addr().String() + "/0?read_timeout=1h&write_timeout=1h&dial_timeout=1h&max_retries=-1"
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, closeStore, err := OpenStore(ctx, rawURL, StoreOptions{})
		if err == nil {
			closeStore()
		}
		done <- err
	}()
	select {
	case err := <-done:
		require.Error(t, err)
		var ne net.Error
		assert.True(t, errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded), "%v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("OpenStore ignored the context deadline")
	}
}

// TestOpenStoreMemoryAndBadURLs covers the other store URLs.
func TestOpenStoreMemoryAndBadURLs(t *testing.T) {
	for _, u := range []string{"", "memory"} {
		s, closeStore, err := OpenStore(context.Background(), u, StoreOptions{})
		require.NoError(t, err)
		closeStore()
		assert.IsType(t, &tokenstore.MemoryStore{}, s)
	}
	_, _, err := OpenStore(context.Background(), "mysql://x", StoreOptions{})
	assert.EqualError(t, err, `demo: unsupported store URL scheme "mysql" (want memory, redis or postgres)`)
}
