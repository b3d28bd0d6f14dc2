package tokencache

import (
	"hash/maphash"
	"sync"
	"time"
)

// maxShards is the number of shards of a large cache. Small caches use one
// shard so that the capacity is exact and eviction sees every entry.
const (
	maxShards      = 16
	minShardedSize = 256
	// evictionSample bounds the entries Put examines when a shard is
	// full, so that Put stays O(1).
	evictionSample = 8
)

// Cache maps token strings to values of type V until each entry's expiry.
// The zero value is not usable; create caches with New. A Cache is safe for
// concurrent use.
type Cache[V any] struct {
	seed   maphash.Seed
	shards []shard[V]
}

// A shard maps the 64-bit seeded hash of a key to its entry; the entry
// keeps the key, and only an identical key hits. (Two keys with the same
// hash cannot both be cached: the later Put replaces the earlier entry.
// With a random seed per cache this happens with negligible probability
// and cannot be provoked.) Hashing once with maphash is faster than a
// string-keyed map, which would hash the whole token again.
type shard[V any] struct {
	mu       sync.RWMutex
	capacity int
	entries  map[uint64]entry[V]
}

type entry[V any] struct {
	key     string
	value   V
	expires time.Time
}

// New returns a cache holding at most maxEntries entries. maxEntries < 1
// is treated as 1.
func New[V any](maxEntries int) *Cache[V] {
	if maxEntries < 1 {
		maxEntries = 1
	}
	n := 1
	if maxEntries >= minShardedSize {
		n = maxShards
	}
	c := &Cache[V]{seed: maphash.MakeSeed(), shards: make([]shard[V], n)}
	for i := range c.shards {
		// Spread maxEntries exactly: the first maxEntries%n shards hold
		// one more entry than the others.
		capacity := maxEntries / n
		if i < maxEntries%n {
			capacity++
		}
		c.shards[i].capacity = capacity
		c.shards[i].entries = make(map[uint64]entry[V])
	}
	return c
}

// shard returns the shard of key and the key's hash.
func (c *Cache[V]) shard(key string) (*shard[V], uint64) {
	h := maphash.String(c.seed, key)
	return &c.shards[h%uint64(len(c.shards))], h
}

// Get returns the value stored for key if its entry has not expired at now
// (now is before the entry's expiry). It does not allocate.
func (c *Cache[V]) Get(key string, now time.Time) (V, bool) {
	s, h := c.shard(key)
	s.mu.RLock()
	e, ok := s.entries[h]
	s.mu.RUnlock()
	if !ok || e.key != key || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put stores v for key until expires, replacing any entry for key. If the
// cache is full, it first removes expired entries (judged against
// time.Now) among a few it examines, and otherwise one arbitrary entry.
//
// The cache keeps key itself, not a copy: do not pass a substring of a
// large buffer (a token taken from a request header is fine).
func (c *Cache[V]) Put(key string, v V, expires time.Time) {
	s, h := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[h]; !ok && len(s.entries) >= s.capacity {
		s.evict(time.Now())
	}
	s.entries[h] = entry[V]{key: key, value: v, expires: expires}
}

// evict removes expired entries among up to evictionSample entries (map
// iteration order is unspecified, so the sample varies between calls) and,
// if none had expired, the first entry examined. s.mu must be held.
func (s *shard[V]) evict(now time.Time) {
	var victim uint64
	found, removed := false, false
	seen := 0
	for k, e := range s.entries {
		if !now.Before(e.expires) {
			delete(s.entries, k)
			removed = true
		} else if !found {
			victim, found = k, true
		}
		seen++
		if seen >= evictionSample {
			break
		}
	}
	if !removed && found {
		delete(s.entries, victim)
	}
}

// Len returns the number of entries held, including expired entries not
// yet removed.
func (c *Cache[V]) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.entries)
		s.mu.RUnlock()
	}
	return n
}
