package authserver

import (
	"container/heap"
	"hash/maphash"
	"sync"
	"time"
)

// maxThrottledClients bounds the number of client_ids a failureThrottle
// tracks, so that a flood of made-up client_ids costs bounded memory.
const maxThrottledClients = 10_000

// failureThrottle limits failed client-secret attempts per client_id with
// a token bucket: a client_id may fail limit times in a burst and regains
// one attempt each window. An attempt is refused while the client_id's
// budget is spent; a failed attempt spends one. Successful attempts are
// never counted nor held up, however many run at once; the price is that
// concurrent failing attempts all admitted while one attempt was left
// overspend the budget — each failure still spends a window, so the
// client_id is then refused for as much longer, and over time no more
// than one attempt per window gets through.
//
// The state of a client_id is one time, full: when its budget is whole
// again. The attempts spent at now are ⌈(full − now) / window⌉, and an
// attempt is allowed while full + window − now ≤ limit × window. Entries
// are keyed by a seeded hash of the client_id (no client_id is kept, and
// every entry has the same small size) and kept in a heap ordered by
// full: when the table is at capacity, the entry whose budget is whole, or
// closest to whole, is forgotten first — the one whose loss lets an
// attacker gain the least.
//
// A nil *failureThrottle throttles nothing.
type failureThrottle struct {
	window   time.Duration
	burst    time.Duration // limit × window
	capacity int
	seed     maphash.Seed

	mu      sync.Mutex
	entries map[uint64]*throttleEntry
	byFull  throttleHeap
}

// newFailureThrottle returns a throttle allowing limit failures in a burst
// per client_id and one more each window, tracking at most capacity
// client_ids; nil if limit is negative (no throttling).
func newFailureThrottle(limit int, window time.Duration, capacity int) *failureThrottle {
	if limit < 0 {
		return nil
	}
	return &failureThrottle{
		window:   window,
		burst:    time.Duration(limit) * window,
		capacity: capacity,
		seed:     maphash.MakeSeed(),
		entries:  make(map[uint64]*throttleEntry),
	}
}

// throttleEntry is the state of one client_id.
type throttleEntry struct {
	key   uint64
	full  time.Time // the budget is whole at full and after
	index int       // in the heap
}

// wait returns how long id must wait, at now, before its next attempt:
// zero if it may make one now.
func (t *failureThrottle) wait(id string, now time.Time) time.Duration {
	if t == nil {
		return 0
	}
	key := maphash.String(t.seed, id)
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[key]
	if e == nil {
		return 0
	}
	return max(0, e.full.Sub(now)+t.window-t.burst)
}

// fail records a failed attempt of id at now.
func (t *failureThrottle) fail(id string, now time.Time) {
	if t == nil {
		return
	}
	key := maphash.String(t.seed, id)
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[key]
	if e == nil {
		for len(t.entries) >= t.capacity {
			old := heap.Pop(&t.byFull).(*throttleEntry)
			delete(t.entries, old.key)
		}
		e = &throttleEntry{key: key, full: now}
		t.entries[key] = e
		heap.Push(&t.byFull, e)
	}
	if e.full.Before(now) {
		e.full = now
	}
	e.full = e.full.Add(t.window)
	heap.Fix(&t.byFull, e.index)
}

// size returns the number of tracked client_ids.
func (t *failureThrottle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// throttleHeap is a container/heap of entries, earliest full first.
type throttleHeap []*throttleEntry

func (h throttleHeap) Len() int           { return len(h) }
func (h throttleHeap) Less(i, j int) bool { return h[i].full.Before(h[j].full) }

func (h throttleHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *throttleHeap) Push(x any) {
	e := x.(*throttleEntry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *throttleHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return e
}
