package middleware

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"golang.org/x/time/rate"
)

const (
	// maxJWKSBytes caps the size of a JWK Set response.
	maxJWKSBytes = 1 << 20
	// defaultJWKSTimeout is the timeout of JWK Set requests when
	// JWTConfig.HTTPClient is nil or has no timeout.
	defaultJWKSTimeout = 10 * time.Second
)

// errJWKNotFound is what the JWK Set storage answers for an unknown kid it
// does not (or may not) refresh for.
var errJWKNotFound = fmt.Errorf("%w (no refresh allowed now)", jwkset.ErrKeyNotFound)

// jwksSource holds the keys of the JWK Set URLs. It is built once by
// NewJWTVerifier: a goroutine per URL refreshes its set every
// JWKSRefreshInterval until the verifier's context ends, and a token with
// an unknown kid triggers a refresh only when the rate limiter allows it.
type jwksSource struct {
	storage *gatedStorage
	// generation changes whenever a JWK Set is replaced by a refresh;
	// cached verifications made under another generation are not trusted.
	generation *atomic.Uint64
}

// jwksOptions are the normalized JWTConfig fields newJWKSSource needs.
type jwksOptions struct {
	urls               []string
	client             *http.Client
	refreshInterval    time.Duration
	unknownKIDInterval time.Duration // < 0: never refresh for an unknown kid
	unknownKIDWait     time.Duration
	logger             *slog.Logger
}

func newJWKSSource(ctx context.Context, o jwksOptions) (*jwksSource, error) {
	client, timeout := jwksHTTPClient(o.client)
	generation := new(atomic.Uint64)
	var stores []*jwkStore
	httpStores := make(map[string]jwkset.Storage, len(o.urls))
	for _, u := range o.urls {
		if _, dup := httpStores[u]; dup {
			continue
		}
		store := newJWKStore(generation)
		hs, err := jwkset.NewStorageFromHTTP(u, jwkset.HTTPClientStorageOptions{
			Client:      client,
			Ctx:         ctx,
			HTTPTimeout: timeout,
			// Start even if the authorization server is down; tokens are
			// rejected (unknown key) until a refresh succeeds.
			NoErrorReturnFirstHTTPReq: true,
			RefreshErrorHandler:       logRefreshError(o.logger, u),
			RefreshInterval:           o.refreshInterval,
			Storage:                   store,
		})
		if err != nil {
			return nil, fmt.Errorf("smartauth: jwt verifier: JWKS URL %q: %w", u, err)
		}
		stores = append(stores, store)
		httpStores[u] = hs
	}
	// refreshing fetches all URLs again on every miss; it is only asked
	// once the unknown-kid rate limiter allowed it. Other reads go to the
	// stores directly.
	refreshing, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          httpStores,
		RateLimitWaitMax:  timeout, // bounds the refresh itself: the limiter below never waits
		RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("smartauth: jwt verifier: %w", err)
	}
	storage := &gatedStorage{Storage: refreshing, stores: stores, wait: o.unknownKIDWait}
	if o.unknownKIDInterval >= 0 {
		storage.limiter = rate.NewLimiter(rate.Every(o.unknownKIDInterval), 1)
	}
	return &jwksSource{storage: storage, generation: generation}, nil
}

// key returns the public key of the JWK with the given kid for a token
// signed with alg: errUnknownKey if there is none (after a refresh, if one
// is allowed now), errKeyAlgMismatch if the JWK names another alg.
func (s *jwksSource) key(ctx context.Context, kid, alg string) (any, error) {
	jwk, err := s.storage.KeyRead(ctx, kid)
	if err != nil {
		return nil, errUnknownKey
	}
	if a := jwk.Marshal().ALG.String(); a != "" && a != alg {
		return nil, errKeyAlgMismatch
	}
	return publicKeyOf(jwk.Key()), nil
}

// keys returns the public keys of every signing JWK, for a token without
// kid.
func (s *jwksSource) keys(ctx context.Context) []any {
	all, _ := s.storage.KeyReadAll(ctx) // never fails: the stores are in memory
	keys := make([]any, 0, len(all))
	for _, jwk := range all {
		keys = append(keys, publicKeyOf(jwk.Key()))
	}
	return keys
}

// publicKeyOf returns the public key of a private key (a JWK Set that
// publishes private keys by mistake), and other keys as they are.
func publicKeyOf(key any) any {
	if pk, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		return pk.Public()
	}
	return key
}

// jwksHTTPClient returns a copy of c (or a default client) whose responses
// are capped at maxJWKSBytes, and the timeout of one JWK Set request.
func jwksHTTPClient(c *http.Client) (*http.Client, time.Duration) {
	var out http.Client
	if c != nil {
		out = *c
	}
	if out.Timeout <= 0 {
		out.Timeout = defaultJWKSTimeout
	}
	base := out.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = maxBodyTransport{base: base, max: maxJWKSBytes}
	return &out, out.Timeout
}

// maxBodyTransport caps the response bodies it returns.
type maxBodyTransport struct {
	base http.RoundTripper
	max  int64
}

func (t maxBodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = http.MaxBytesReader(nil, resp.Body, t.max)
	return resp, nil
}

func logRefreshError(l *slog.Logger, url string) func(context.Context, error) {
	return func(ctx context.Context, err error) {
		l.WarnContext(ctx, "smartauth: JWK Set fetch failed; keeping the keys fetched before, if any", "url", url, "error", err)
	}
}

// jwkStore holds the keys of one JWK Set URL. It is the storage jwkset
// refreshes into; reads are served without locks or allocations from an
// immutable kid → JWK map replaced on each change, and each change bumps
// the shared generation counter.
type jwkStore struct {
	*jwkset.MemoryJWKSet
	byKID      atomic.Pointer[map[string]jwkset.JWK]
	generation *atomic.Uint64
}

func newJWKStore(generation *atomic.Uint64) *jwkStore {
	s := &jwkStore{MemoryJWKSet: jwkset.NewMemoryStorage(), generation: generation}
	s.byKID.Store(&map[string]jwkset.JWK{})
	return s
}

// changed rebuilds the read map after a change of the set.
func (s *jwkStore) changed(ctx context.Context) {
	all, _ := s.MemoryJWKSet.KeyReadAll(ctx) // never fails
	m := make(map[string]jwkset.JWK, len(all))
	for _, jwk := range all {
		kid := jwk.Marshal().KID
		if _, dup := m[kid]; !dup { // the first of duplicate kids wins, as in jwkset
			m[kid] = jwk
		}
	}
	s.byKID.Store(&m)
	s.generation.Add(1)
}

func (s *jwkStore) KeyRead(_ context.Context, kid string) (jwkset.JWK, error) {
	if jwk, ok := (*s.byKID.Load())[kid]; ok {
		return jwk, nil
	}
	return jwkset.JWK{}, errJWKNotFound
}

func (s *jwkStore) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	err := s.MemoryJWKSet.KeyReplaceAll(ctx, given)
	s.changed(ctx)
	return err
}

func (s *jwkStore) KeyWrite(ctx context.Context, jwk jwkset.JWK) error {
	err := s.MemoryJWKSet.KeyWrite(ctx, jwk)
	s.changed(ctx)
	return err
}

func (s *jwkStore) KeyDelete(ctx context.Context, kid string) (bool, error) {
	ok, err := s.MemoryJWKSet.KeyDelete(ctx, kid)
	s.changed(ctx)
	return ok, err
}

// gatedStorage is the jwkset.Storage the verifier reads: it answers from the
// fetched sets and, for an unknown kid, refreshes them only if the limiter
// allows it within the configured wait (default: not at all, so a flood of
// random kids neither blocks requests nor hammers the JWKS server). Keys
// published for encryption (use "enc") are never returned.
type gatedStorage struct {
	jwkset.Storage // refreshing: fetches every URL on a miss
	stores         []*jwkStore
	limiter        *rate.Limiter // nil: never refresh for an unknown kid
	wait           time.Duration
}

func (s *gatedStorage) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	jwk, err := s.read(ctx, kid)
	if errors.Is(err, jwkset.ErrKeyNotFound) {
		if !s.mayRefresh(ctx) {
			return jwkset.JWK{}, errJWKNotFound
		}
		jwk, err = s.Storage.KeyRead(ctx, kid)
	}
	if err != nil {
		return jwkset.JWK{}, err
	}
	if jwk.Marshal().USE == jwkset.UseEnc {
		return jwkset.JWK{}, errJWKNotFound
	}
	return jwk, nil
}

// read looks kid up in the stores, in the order of the URLs.
func (s *gatedStorage) read(ctx context.Context, kid string) (jwkset.JWK, error) {
	for _, store := range s.stores {
		if jwk, err := store.KeyRead(ctx, kid); err == nil {
			return jwk, nil
		}
	}
	return jwkset.JWK{}, errJWKNotFound
}

func (s *gatedStorage) KeyReadAll(ctx context.Context) ([]jwkset.JWK, error) {
	var sig []jwkset.JWK
	for _, store := range s.stores {
		all, err := store.MemoryJWKSet.KeyReadAll(ctx)
		if err != nil {
			return nil, err
		}
		for _, jwk := range all {
			if jwk.Marshal().USE != jwkset.UseEnc {
				sig = append(sig, jwk)
			}
		}
	}
	return sig, nil
}

// mayRefresh reports whether an unknown kid may trigger a refresh now,
// waiting at most s.wait for the rate limiter.
func (s *gatedStorage) mayRefresh(ctx context.Context) bool {
	if s.limiter == nil {
		return false
	}
	if s.wait <= 0 {
		return s.limiter.Allow()
	}
	ctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	// Wait fails at once if the wait would outlast the deadline.
	return s.limiter.Wait(ctx) == nil
}
