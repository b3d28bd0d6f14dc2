// Package tokencache is a small, size-capped, concurrency-safe cache of
// verified tokens, keyed by the full token string.
//
// The token verifiers of package middleware use it so that a token seen
// again is not verified again (no signature check, no introspection call).
// Because the key is the complete token, a different token can never hit
// an entry; each entry expires at the time given to Put and is never
// returned at or after it.
//
// Usage:
//
//	c := tokencache.New[*LaunchContext](10000)
//	if lc, ok := c.Get(token, now); ok {
//		return lc, nil // verified before, not yet expired
//	}
//	lc, err := verify(token)
//	if err == nil {
//		c.Put(token, lc, lc.ExpiresAt)
//	}
//
// Get does not allocate. When the cache is full, Put first drops expired
// entries, otherwise an arbitrary entry; it never grows past the capacity
// given to New.
package tokencache
