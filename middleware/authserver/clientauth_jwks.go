package authserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Behaviour of the cache of client JWK Sets fetched from Client.JWKSURL.
const (
	// maxJWKSBytes bounds the size of a fetched JWK Set document.
	maxJWKSBytes = 128 << 10
	// jwksFetchTimeout bounds one fetch.
	jwksFetchTimeout = 10 * time.Second
	// defaultJWKSTTL is how long a JWK Set is cached when its response has
	// no Cache-Control max-age.
	defaultJWKSTTL = 15 * time.Minute
	// maxJWKSTTL caps the Cache-Control max-age of a JWK Set response.
	maxJWKSTTL = 24 * time.Hour
	// jwksRefreshInterval is the least time between two fetches of the same
	// URL caused by an assertion whose kid is not in the cached set.
	jwksRefreshInterval = time.Minute
	// jwksFailureBackoff is how long a failed fetch is remembered before
	// the URL is tried again.
	jwksFailureBackoff = 5 * time.Second
	// maxJWKSCacheEntries bounds the number of cached URLs.
	maxJWKSCacheEntries = 1024
)

// Errors of JWK Set fetches. They never contain response bodies.
var (
	errJWKSURL   = errors.New("authserver: JWKS URL must be an absolute https URL")
	errJWKSFetch = errors.New("authserver: cannot fetch client JWK Set")
)

// clientJWKSCache fetches and caches client JWK Sets by URL.
//
// A set is cached as long as the response's Cache-Control max-age says
// (no-store and no-cache: not at all; no max-age: defaultJWKSTTL; at most
// maxJWKSTTL). Concurrent fetches of the same URL are merged. A kid that is
// not in a cached set triggers a refetch at most once per
// jwksRefreshInterval per URL. A failed fetch is remembered for
// jwksFailureBackoff; if a still-fresh copy exists it is kept.
type clientJWKSCache struct {
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*clientJWKSEntry
	fetches singleflight.Group
}

type clientJWKSEntry struct {
	keys      clientKeySet
	err       error     // the error of the last fetch, if it failed and no fresh copy was kept
	fetchedAt time.Time // time of the last fetch attempt
	expiresAt time.Time // keys are fresh until then
}

func newClientJWKSCache(client *http.Client, now func() time.Time) *clientJWKSCache {
	return &clientJWKSCache{client: client, now: now, entries: make(map[string]*clientJWKSEntry)}
}

// defaultJWKSHTTPClient is used when ClientAuthConfig.HTTPClient is nil. It
// has a timeout and follows at most three redirects, only to https URLs.
func defaultJWKSHTTPClient() *http.Client {
	return &http.Client{
		Timeout: jwksFetchTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || req.URL.Scheme != "https" {
				return fmt.Errorf("%w: redirect refused", errJWKSFetch)
			}
			return nil
		},
	}
}

// keys returns the key set at url, from the cache if it is fresh.
func (c *clientJWKSCache) keys(ctx context.Context, url string) (clientKeySet, error) {
	now := c.now()
	c.mu.Lock()
	e := c.entries[url]
	c.mu.Unlock()
	if e != nil {
		if e.err == nil && now.Before(e.expiresAt) {
			return e.keys, nil
		}
		if e.err != nil && now.Before(e.fetchedAt.Add(jwksFailureBackoff)) {
			return nil, e.err
		}
	}
	return c.fetch(ctx, url)
}

// refresh refetches url for a kid missing from its cached set, unless the
// last fetch was less than jwksRefreshInterval ago; then ok is false.
func (c *clientJWKSCache) refresh(ctx context.Context, url string) (keys clientKeySet, ok bool, err error) {
	now := c.now()
	c.mu.Lock()
	e := c.entries[url]
	c.mu.Unlock()
	if e != nil && now.Before(e.fetchedAt.Add(jwksRefreshInterval)) {
		return nil, false, nil
	}
	keys, err = c.fetch(ctx, url)
	return keys, true, err
}

// fetch downloads url, merging concurrent calls, and caches the result.
// The download is not canceled when ctx is (another caller may be waiting
// for it); it has its own timeout.
func (c *clientJWKSCache) fetch(ctx context.Context, url string) (clientKeySet, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", errJWKSFetch, err)
	}
	ch := c.fetches.DoChan(url, func() (any, error) {
		keys, ttl, err := c.download(context.WithoutCancel(ctx), url)
		return c.store(url, keys, ttl, err)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		keys, _ := res.Val.(clientKeySet)
		return keys, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", errJWKSFetch, context.Cause(ctx))
	}
}

// store records the outcome of a download and returns the keys to use.
func (c *clientJWKSCache) store(url string, keys clientKeySet, ttl time.Duration, err error) (clientKeySet, error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.entries[url]
	if err != nil && old != nil && old.err == nil && now.Before(old.expiresAt) {
		// Keep the fresh copy; only rate-limit the next refresh.
		c.entries[url] = &clientJWKSEntry{keys: old.keys, fetchedAt: now, expiresAt: old.expiresAt}
		return nil, err
	}
	if old == nil && len(c.entries) >= maxJWKSCacheEntries {
		c.evictLocked(now)
	}
	c.entries[url] = &clientJWKSEntry{keys: keys, err: err, fetchedAt: now, expiresAt: now.Add(ttl)}
	return keys, err
}

// evictLocked removes expired entries, or one arbitrary entry if none has
// expired.
func (c *clientJWKSCache) evictLocked(now time.Time) {
	for u, e := range c.entries {
		if !now.Before(e.expiresAt) && !now.Before(e.fetchedAt.Add(jwksFailureBackoff)) {
			delete(c.entries, u)
		}
	}
	if len(c.entries) < maxJWKSCacheEntries {
		return
	}
	for u := range c.entries {
		delete(c.entries, u)
		return
	}
}

// download GETs the JWK Set at url and parses it; ttl is how long it may be
// cached.
func (c *clientJWKSCache) download(ctx context.Context, url string) (keys clientKeySet, ttl time.Duration, err error) {
	if err := checkJWKSURL(url); err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errJWKSFetch, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errJWKSFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("%w: HTTP status %d", errJWKSFetch, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errJWKSFetch, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, 0, fmt.Errorf("%w: document larger than %d bytes", errJWKSFetch, maxJWKSBytes)
	}
	keys, err = parseClientKeySet(body)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errJWKSFetch, err)
	}
	return keys, jwksCacheTTL(resp.Header), nil
}

// jwksCacheTTL returns how long a response may be cached according to its
// Cache-Control header: zero for no-store or no-cache, else max-age capped
// at maxJWKSTTL, else defaultJWKSTTL.
func jwksCacheTTL(h http.Header) time.Duration {
	ttl := time.Duration(-1)
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(value), `"`), 10, 64)
				if err != nil || n < 0 {
					return 0 // malformed: do not cache (RFC 9111 §4.2.1)
				}
				ttl = time.Duration(min(n, int64(maxJWKSTTL/time.Second))) * time.Second
			}
		}
	}
	if ttl < 0 {
		return defaultJWKSTTL
	}
	return ttl
}
