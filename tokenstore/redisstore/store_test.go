package redisstore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// TestConformance runs the conformance suite on the shared test Redis (a
// single node), each store with a prefix of its own. The Cluster runs it in
// TestCluster.
func TestConformance(t *testing.T) {
	c := newClient(t, nil)
	storetest.Run(t, func(t *testing.T) tokenstore.Store { return newStore(t, c) })
}

// TestConcurrentInstances presents one token through stores built on two
// separate clients (two connection pools) of the same Redis.
func TestConcurrentInstances(t *testing.T) {
	c1, c2 := newClient(t, nil), newClient(t, nil)
	prefix := newPrefix(t, c1)
	storetest.RunConcurrentInstances(t, []tokenstore.Store{
		redisstore.New(c1, redisstore.Options{Prefix: prefix}),
		redisstore.New(c2, redisstore.Options{Prefix: prefix}),
	}, 64)
}

// TestCodes runs the conformance suite of tokenstore.CodeStore on the
// shared test Redis; TestCluster runs it on a Cluster.
func TestCodes(t *testing.T) {
	c := newClient(t, nil)
	storetest.RunCodes(t, func(t *testing.T) storetest.FullStore { return newStore(t, c) })
}

// TestCodeInstances redeems one code through stores built on two separate
// clients of the same Redis.
func TestCodeInstances(t *testing.T) {
	c1, c2 := newClient(t, nil), newClient(t, nil)
	prefix := newPrefix(t, c1)
	storetest.RunCodeInstances(t, []storetest.FullStore{
		redisstore.New(c1, redisstore.Options{Prefix: prefix}),
		redisstore.New(c2, redisstore.Options{Prefix: prefix}),
	}, 64)
}

// TestKeyLayout checks the name, hash tag and time to live of every key:
// a family's keys share the family's tag, index and UseOnce keys have tags
// of their own, and no TTL outlives its record.
func TestKeyLayout(t *testing.T) {
	c := newClient(t, nil)
	testKeyLayout(t, c, newPrefix(t, c))
}

func testKeyLayout(t *testing.T, c redis.UniversalClient, prefix string) {
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	now := time.Now().UTC().Truncate(time.Millisecond)

	g := storetest.NewGrant(now)
	g.IdleTimeout = time.Hour
	first := storetest.CreateFamily(t, s, g)
	res := storetest.RequireRotate(t, s, storetest.Ref(first), now.Add(time.Minute))
	odd := storetest.NewGrant(now)
	odd.ID = "grant {with} braces, spaces and ünïcode"
	oddFirst := storetest.CreateFamily(t, s, odd)
	require.NoError(t, s.UseOnce(t.Context(), "jti:app:1", now.Add(5*time.Minute), now))
	const oddOnce = "jti:app:{odd}"
	require.NoError(t, s.UseOnce(t.Context(), oddOnce, now.Add(5*time.Minute), now))

	tag := "{" + g.ID + "}"
	oddTag := "{#" + sha256Hex(odd.ID) + "}"
	want := map[string]struct {
		tag    string
		maxTTL time.Duration
	}{
		prefix + tag + ":g":                              {tag, g.ExpiresAt.Sub(now)},
		prefix + tag + ":t:" + first.Hash.String():       {tag, first.ExpiresAt.Sub(now)},
		prefix + tag + ":t:" + res.Token.Hash.String():   {tag, res.Token.ExpiresAt.Sub(now)},
		prefix + "x:{" + first.Hash.String() + "}":       {"{" + first.Hash.String() + "}", g.ExpiresAt.Sub(now)},
		prefix + oddTag + ":g":                           {oddTag, odd.ExpiresAt.Sub(now)},
		prefix + oddTag + ":t:" + oddFirst.Hash.String(): {oddTag, oddFirst.ExpiresAt.Sub(now)},
		prefix + "x:{" + oddFirst.Hash.String() + "}":    {"{" + oddFirst.Hash.String() + "}", odd.ExpiresAt.Sub(now)},
		prefix + "o:{jti:app:1}":                         {"{jti:app:1}", 5 * time.Minute},
		prefix + "o:{#" + sha256Hex(oddOnce) + "}":       {"{#" + sha256Hex(oddOnce) + "}", 5 * time.Minute},
	}
	got := keys(t, c, prefix)
	require.ElementsMatch(t, keysOf(want), got)
	for _, k := range got {
		assert.Equal(t, want[k].tag, hashTag(k), "hash tag of %s", k)
		ttl, err := c.PTTL(t.Context(), k).Result()
		require.NoError(t, err)
		assert.Positive(t, ttl, "TTL of %s", k)
		assert.LessOrEqual(t, ttl, want[k].maxTTL, "TTL of %s", k)
	}

	// Each record is found with and without the help of the grant ID.
	for _, ref := range []tokenstore.TokenRef{storetest.Ref(first), {Hash: first.Hash}, storetest.Ref(oddFirst), {Hash: oddFirst.Hash}} {
		_, tok, err := s.LookupToken(t.Context(), ref)
		require.NoError(t, err)
		require.Equal(t, ref.Hash, tok.Hash)
	}
	got2, err := s.Grant(t.Context(), odd.ID)
	require.NoError(t, err)
	require.Equal(t, odd.Subject, got2.Subject)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestTokenRef checks how a store finds a token from the TokenRef a
// presenter sends: by the grant its value names, by the index if it names
// none, and never in another family.
func TestTokenRef(t *testing.T) {
	c := newClient(t, nil)
	s := newStore(t, c)
	now := time.Now().UTC().Truncate(time.Millisecond)
	g := storetest.NewGrant(now)
	first := storetest.CreateFamily(t, s, g)
	other := storetest.NewGrant(now)
	storetest.CreateFamily(t, s, other)
	res := storetest.RequireRotate(t, s, storetest.Ref(first), now.Add(time.Minute))

	cases := []struct {
		name string
		ref  tokenstore.TokenRef
		want error
	}{
		{"FirstNamed", storetest.Ref(first), nil},
		{"FirstUnnamed", tokenstore.TokenRef{Hash: first.Hash}, nil},
		{"FirstNamingAnotherGrant", tokenstore.TokenRef{Hash: first.Hash, GrantID: other.ID}, nil}, // via the index
		{"FirstNamingUnknownGrant", tokenstore.TokenRef{Hash: first.Hash, GrantID: "nope"}, nil},
		{"SuccessorNamed", storetest.Ref(res.Token), nil},
		{"SuccessorUnnamed", tokenstore.TokenRef{Hash: res.Token.Hash}, tokenstore.ErrNotFound}, // its value names its grant
		{"SuccessorNamingAnotherGrant", tokenstore.TokenRef{Hash: res.Token.Hash, GrantID: other.ID}, tokenstore.ErrNotFound},
		{"Unknown", tokenstore.TokenRef{Hash: storetest.NewHash(), GrantID: g.ID}, tokenstore.ErrNotFound},
		{"UnknownUnnamed", tokenstore.TokenRef{Hash: storetest.NewHash()}, tokenstore.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gotGrant, tok, err := s.LookupToken(t.Context(), tc.ref)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.ref.Hash, tok.Hash)
			require.Equal(t, g.ID, gotGrant.ID)
			require.Equal(t, g.ID, tok.GrantID)
		})
	}

	// A real value made by NewRefreshToken goes through ParseRefreshToken.
	value, ref := tokenstore.NewRefreshToken(g.ID)
	_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: storetest.Ref(res.Token), Next: ref.Hash, ClientID: storetest.ClientID, Now: now.Add(2 * time.Minute),
	})
	require.NoError(t, err)
	_, tok, err := s.LookupToken(t.Context(), tokenstore.ParseRefreshToken(value))
	require.NoError(t, err)
	require.Equal(t, 3, tok.Generation)
}

// TestLostRecords checks what happens when Redis loses records (evicted
// despite the documentation, or deleted by hand): never an accepted token.
func TestLostRecords(t *testing.T) {
	c := newClient(t, nil)
	now := time.Now().UTC().Truncate(time.Millisecond)

	t.Run("Grant", func(t *testing.T) {
		prefix := newPrefix(t, c)
		s := redisstore.New(c, redisstore.Options{Prefix: prefix})
		g := storetest.NewGrant(now)
		first := storetest.CreateFamily(t, s, g)
		require.NoError(t, c.Del(t.Context(), prefix+"{"+g.ID+"}:g").Err())

		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: storetest.Ref(first), Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now,
		})
		require.ErrorIs(t, err, tokenstore.ErrNotFound)
		_, _, err = s.LookupToken(t.Context(), storetest.Ref(first))
		require.ErrorIs(t, err, tokenstore.ErrNotFound)
		require.ErrorIs(t, s.RevokeGrant(t.Context(), g.ID, now), tokenstore.ErrNotFound)
	})

	t.Run("UsedToken", func(t *testing.T) {
		prefix := newPrefix(t, c)
		s := redisstore.New(c, redisstore.Options{Prefix: prefix})
		g := storetest.NewGrant(now)
		first := storetest.CreateFamily(t, s, g)
		res := storetest.RequireRotate(t, s, storetest.Ref(first), now.Add(time.Minute))
		require.NoError(t, c.Del(t.Context(), prefix+"{"+g.ID+"}:t:"+first.Hash.String()).Err())

		// The reuse goes undetected: unknown token, family not revoked.
		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: storetest.Ref(first), Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(2 * time.Minute),
		})
		require.ErrorIs(t, err, tokenstore.ErrNotFound)
		got, err := s.Grant(t.Context(), g.ID)
		require.NoError(t, err)
		require.False(t, got.Revoked)
		storetest.RequireRotate(t, s, storetest.Ref(res.Token), now.Add(3*time.Minute))
	})

	t.Run("Index", func(t *testing.T) {
		prefix := newPrefix(t, c)
		s := redisstore.New(c, redisstore.Options{Prefix: prefix})
		g := storetest.NewGrant(now)
		first := storetest.UnnamedFirstToken(g)
		require.NoError(t, s.CreateGrant(t.Context(), g, first))
		require.NoError(t, c.Del(t.Context(), prefix+"x:{"+first.Hash.String()+"}").Err())

		_, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
			Presented: tokenstore.TokenRef{Hash: first.Hash}, Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now,
		})
		require.ErrorIs(t, err, tokenstore.ErrNotFound)
	})
}

// TestRotateResend checks that running the very same rotation twice (as
// go-redis does when a reply is lost) returns the same successor, and that
// any other second presentation is reuse or a retry.
func TestRotateResend(t *testing.T) {
	c := newClient(t, nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	const window = time.Minute

	same := func(r tokenstore.RotateRequest) tokenstore.RotateRequest { return r }
	cases := []struct {
		name      string
		retry     bool // the first request is itself a retry
		window    time.Duration
		second    func(req tokenstore.RotateRequest) tokenstore.RotateRequest
		want      error
		wantRetry bool // the second request is answered as a retry
	}{
		{"SameRequest", false, 0, same, nil, false},
		{"SameRequestWithWindow", false, window, same, nil, false},
		{"SameRetry", true, window, same, nil, true},
		{"OtherNext", false, 0, func(r tokenstore.RotateRequest) tokenstore.RotateRequest {
			r.Next = storetest.NewHash()
			return r
		}, tokenstore.ErrReused, false},
		{"OtherNextWithWindow", false, window, func(r tokenstore.RotateRequest) tokenstore.RotateRequest {
			r.Next = storetest.NewHash()
			return r
		}, nil, true},
		{"SameNextLaterNow", false, 0, func(r tokenstore.RotateRequest) tokenstore.RotateRequest {
			r.Now = r.Now.Add(time.Millisecond)
			return r
		}, tokenstore.ErrReused, false},
		{"SameNextLaterNowWithWindow", false, window, func(r tokenstore.RotateRequest) tokenstore.RotateRequest {
			r.Now = r.Now.Add(time.Millisecond)
			return r
		}, tokenstore.ErrConflict, false},
		{"OtherClient", false, window, func(r tokenstore.RotateRequest) tokenstore.RotateRequest {
			r.ClientID = "another-client"
			return r
		}, tokenstore.ErrReused, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, c)
			g := storetest.NewGrant(now)
			presented := storetest.Ref(storetest.CreateFamily(t, s, g))
			refs := []tokenstore.TokenRef{presented}
			if tc.retry {
				refs = append(refs, storetest.Ref(storetest.RequireRotate(t, s, presented, now.Add(time.Minute-time.Second)).Token))
			}
			req := tokenstore.RotateRequest{
				Presented: presented, Next: storetest.NewHash(), ClientID: storetest.ClientID,
				Now: now.Add(time.Minute), RetryWindow: tc.window,
			}
			first, err := s.Rotate(t.Context(), req)
			require.NoError(t, err)
			require.Equal(t, tc.retry, first.Retry)
			refs = append(refs, storetest.Ref(first.Token))

			again, err := s.Rotate(t.Context(), tc.second(req))
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantRetry, again.Retry)
			if again.Token.Hash == first.Token.Hash {
				require.Equal(t, first, again)
			} else {
				refs = append(refs, storetest.Ref(again.Token))
			}
			requireOneLive(t, s, now.Add(time.Minute), refs...)
		})
	}
}

// requireOneLive requires exactly one of the tokens refs names (every token
// of one family any presenter received) to be live at now, and returns it.
func requireOneLive(t *testing.T, s tokenstore.Store, now time.Time, refs ...tokenstore.TokenRef) tokenstore.TokenRef {
	t.Helper()
	var live []tokenstore.TokenRef
	for _, ref := range refs {
		g, tok, err := s.LookupToken(t.Context(), ref)
		require.NoError(t, err)
		if tok.Check(g, now) == nil {
			live = append(live, ref)
		}
	}
	require.Len(t, live, 1, "live tokens of the family")
	return live[0]
}

func TestNewPrefix(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = c.Close() })
	for _, p := range []string{"{x}", "a{b", "a}b"} {
		assert.Panics(t, func() { redisstore.New(c, redisstore.Options{Prefix: p}) }, "prefix %q", p)
	}
	assert.NotPanics(t, func() { redisstore.New(c, redisstore.Options{}) })
}

// hashTag returns the part of key Redis Cluster hashes, braces included:
// the first {...} if not empty, else the whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i : i+j+2]
		}
	}
	return key
}

func keysOf[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestCreateGrantResend: running the very same creation twice (as go-redis
// does when a reply is lost) succeeds; any other duplicate is a conflict
// that leaves no index key behind.
func TestCreateGrantResend(t *testing.T) {
	c := newClient(t, nil)
	prefix := newPrefix(t, c)
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	now := time.Now().UTC().Truncate(time.Millisecond)
	g := storetest.NewGrant(now)
	first := storetest.FirstToken(g)
	require.NoError(t, s.CreateGrant(t.Context(), g, first))
	require.NoError(t, s.CreateGrant(t.Context(), g, first), "resent")

	later := first
	later.IssuedAt = later.IssuedAt.Add(time.Millisecond)
	require.ErrorIs(t, s.CreateGrant(t.Context(), g, later), tokenstore.ErrConflict, "another first token with the same hash")

	res := storetest.RequireRotate(t, s, storetest.Ref(first), now.Add(time.Minute))
	require.ErrorIs(t, s.CreateGrant(t.Context(), g, res.Token), tokenstore.ErrConflict, "a later token of the grant")
	_, err := c.Get(t.Context(), prefix+"x:{"+res.Token.Hash.String()+"}").Result()
	require.ErrorIs(t, err, redis.Nil, "the refused creation's index key is taken back")

	other := storetest.NewGrant(now)
	otherFirst := first
	otherFirst.GrantID = ""
	require.ErrorIs(t, s.CreateGrant(t.Context(), other, otherFirst), tokenstore.ErrConflict, "the token of another grant")
	_, err = s.Grant(t.Context(), other.ID)
	require.ErrorIs(t, err, tokenstore.ErrNotFound)
}
