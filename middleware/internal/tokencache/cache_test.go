package tokencache

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func TestGetPut(t *testing.T) {
	c := New[int](10)
	c.Put("tok-a", 1, t0.Add(time.Minute))

	tests := []struct {
		name   string
		key    string
		now    time.Time
		want   int
		wantOK bool
	}{
		{"hit", "tok-a", t0, 1, true},
		{"hit just before expiry", "tok-a", t0.Add(time.Minute - time.Nanosecond), 1, true},
		{"miss at expiry", "tok-a", t0.Add(time.Minute), 0, false},
		{"miss after expiry", "tok-a", t0.Add(time.Hour), 0, false},
		{"other key", "tok-b", t0, 0, false},
		{"prefix of key", "tok-", t0, 0, false},
		{"key with suffix", "tok-aa", t0, 0, false},
		{"empty key", "", t0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.Get(tt.key, tt.now)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPutReplaces(t *testing.T) {
	c := New[string](1)
	c.Put("k", "old", t0.Add(time.Minute))
	c.Put("k", "new", t0.Add(2*time.Minute))
	v, ok := c.Get("k", t0.Add(90*time.Second))
	require.True(t, ok)
	assert.Equal(t, "new", v)
	assert.Equal(t, 1, c.Len())
}

func TestCapacity(t *testing.T) {
	for _, max := range []int{-1, 0, 1, 2, 7, 255, 256, 1000, 1001} {
		t.Run(strconv.Itoa(max), func(t *testing.T) {
			c := New[int](max)
			want := max
			if want < 1 {
				want = 1
			}
			exp := time.Now().Add(time.Hour)
			for i := range 5 * want {
				c.Put(fmt.Sprintf("token-%d", i), i, exp)
				require.LessOrEqual(t, c.Len(), want)
			}
			// Hashing is not perfectly even, but every shard fills up
			// after five times the capacity.
			assert.Equal(t, want, c.Len())
			// The most recent entry is always present.
			v, ok := c.Get(fmt.Sprintf("token-%d", 5*want-1), time.Now())
			assert.True(t, ok)
			assert.Equal(t, 5*want-1, v)
		})
	}
}

func TestEvictsExpiredFirst(t *testing.T) {
	c := New[string](3)
	now := time.Now()
	c.Put("live-1", "a", now.Add(time.Hour))
	c.Put("expired", "b", now.Add(-time.Second))
	c.Put("live-2", "c", now.Add(time.Hour))
	c.Put("live-3", "d", now.Add(time.Hour))

	assert.Equal(t, 3, c.Len())
	for _, k := range []string{"live-1", "live-2", "live-3"} {
		_, ok := c.Get(k, now)
		assert.True(t, ok, k)
	}
}

func TestConcurrent(t *testing.T) {
	c := New[int](300)
	exp := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := strconv.Itoa((g*7919 + i) % 500)
				if i%3 == 0 {
					c.Put(k, i, exp)
				} else if v, ok := c.Get(k, time.Now()); ok {
					assert.GreaterOrEqual(t, v, 0)
				}
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, c.Len(), 300)
}

func TestGetDoesNotAllocate(t *testing.T) {
	for _, size := range []int{10, 10000} {
		c := New[struct {
			p *int
			n uint64
		}](size)
		exp := time.Now().Add(time.Hour)
		key := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
		c.Put(key, struct {
			p *int
			n uint64
		}{nil, 1}, exp)
		now := time.Now()
		allocs := testing.AllocsPerRun(100, func() {
			if _, ok := c.Get(key, now); !ok {
				t.Fatal("miss")
			}
			c.Get("absent", now)
		})
		assert.Zero(t, allocs)
	}
}

func BenchmarkGet(b *testing.B) {
	c := New[*int](10000)
	key := "eyJhbGciOiJSUzI1NiJ9." + string(make([]byte, 800))
	c.Put(key, new(int), time.Now().Add(time.Hour))
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		c.Get(key, now)
	}
}

func BenchmarkPutFull(b *testing.B) {
	c := New[int](1000)
	exp := time.Now().Add(time.Hour)
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = "token-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Put(keys[i%len(keys)], i, exp)
		i++
	}
}
