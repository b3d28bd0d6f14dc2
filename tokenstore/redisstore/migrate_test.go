package redisstore_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// TestMigrateLegacyKeys copies records written in the previous key layout
// on the shared test Redis; TestCluster does the same on a Cluster.
func TestMigrateLegacyKeys(t *testing.T) {
	c := newClient(t, nil)
	testMigrate(t, c, newPrefix(t, c))
}

// legacyWriter writes records as the previous version of the package did:
// every key under the hash tag "{" + prefix + "}".
type legacyWriter struct {
	t   *testing.T
	c   redis.UniversalClient
	tag string
	now time.Time
}

func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

func (w legacyWriter) grant(g tokenstore.Grant, first tokenstore.Hash) {
	w.t.Helper()
	fields := []any{
		"client", g.ClientID, "sub", g.Subject, "fhiruser", g.FHIRUser, "scope", g.Scope,
		"launch", string(g.LaunchContext), "iat", micros(g.IssuedAt), "exp", micros(g.ExpiresAt),
		"idle", strconv.FormatInt(g.IdleTimeout.Microseconds(), 10), "kind", string(g.Kind),
		"first", first.String(),
	}
	if g.Revoked {
		fields = append(fields, "revoked", micros(g.RevokedAt))
	}
	w.hset(w.tag+"g:"+g.ID, g.ExpiresAt, fields...)
}

func (w legacyWriter) token(tok tokenstore.RefreshToken) {
	w.t.Helper()
	fields := []any{"grant", tok.GrantID, "gen", strconv.Itoa(tok.Generation), "iat", micros(tok.IssuedAt), "exp", micros(tok.ExpiresAt)}
	if !tok.UsedAt.IsZero() {
		fields = append(fields, "used", micros(tok.UsedAt))
	}
	w.hset(w.tag+"t:"+tok.Hash.String(), tok.ExpiresAt, fields...)
}

func (w legacyWriter) once(key string, exp time.Time) {
	w.t.Helper()
	require.NoError(w.t, w.c.Set(w.t.Context(), w.tag+"o:"+key, micros(exp), exp.Sub(w.now)).Err())
}

func (w legacyWriter) hset(key string, exp time.Time, fields ...any) {
	w.t.Helper()
	require.NoError(w.t, w.c.HSet(w.t.Context(), key, fields...).Err())
	require.NoError(w.t, w.c.PExpire(w.t.Context(), key, exp.Sub(w.now)).Err())
}

// legacyToken returns the record of a token of g as the previous version
// made it: its value names no grant.
func legacyToken(g tokenstore.Grant, gen int, iat time.Time, used time.Time) tokenstore.RefreshToken {
	return tokenstore.RefreshToken{
		Hash: storetest.NewHash(), GrantID: g.ID, Generation: gen,
		IssuedAt: iat, ExpiresAt: g.NextExpiry(iat), UsedAt: used,
	}
}

func testMigrate(t *testing.T, c redis.UniversalClient, prefix string) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	w := legacyWriter{t: t, c: c, tag: "{" + prefix + "}", now: now}
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})

	// A family rotated twice: first -> second -> third (live).
	g := storetest.NewGrant(now.Add(-time.Hour))
	g.IdleTimeout = 2 * time.Hour
	first := legacyToken(g, 1, g.IssuedAt, now.Add(-50*time.Minute))
	second := legacyToken(g, 2, now.Add(-50*time.Minute), now.Add(-10*time.Minute))
	third := legacyToken(g, 3, now.Add(-10*time.Minute), time.Time{})
	w.grant(g, first.Hash)
	for _, tok := range []tokenstore.RefreshToken{first, second, third} {
		w.token(tok)
	}

	// A family forked by the old grace period: two unused successors of
	// generation 2; the later one stays live.
	forked := storetest.NewGrant(now.Add(-time.Hour))
	forkedFirst := legacyToken(forked, 1, forked.IssuedAt, now.Add(-20*time.Minute))
	early := legacyToken(forked, 2, now.Add(-20*time.Minute), time.Time{})
	late := legacyToken(forked, 2, now.Add(-20*time.Minute+time.Second), time.Time{})
	w.grant(forked, forkedFirst.Hash)
	for _, tok := range []tokenstore.RefreshToken{forkedFirst, early, late} {
		w.token(tok)
	}

	// A revoked family, a grant without tokens left, a token without grant
	// and a UseOnce record.
	revoked := storetest.NewGrant(now.Add(-time.Hour))
	revoked.Revoked, revoked.RevokedAt = true, now.Add(-time.Minute)
	revokedFirst := legacyToken(revoked, 1, revoked.IssuedAt, time.Time{})
	w.grant(revoked, revokedFirst.Hash)
	w.token(revokedFirst)
	bare := storetest.NewGrant(now.Add(-time.Hour))
	w.grant(bare, storetest.NewHash())
	orphan := legacyToken(storetest.NewGrant(now), 1, now, time.Time{})
	w.token(orphan)
	w.once("jti:app:old", now.Add(5*time.Minute))
	for _, junk := range []string{"t:not-a-hash", "t:" + first.Hash.String() + "00"} {
		w.hset(w.tag+junk, now.Add(time.Hour), "grant", g.ID)
	}

	n, err := s.MigrateLegacyKeys(t.Context())
	require.NoError(t, err)
	require.Equal(t, 4, n, "families copied")
	n, err = s.MigrateLegacyKeys(t.Context())
	require.NoError(t, err)
	require.Equal(t, 0, n, "a second run copies nothing")

	unnamed := func(tok tokenstore.RefreshToken) tokenstore.TokenRef { return tokenstore.TokenRef{Hash: tok.Hash} }

	// Every record reads back as it was written, TTL included.
	for _, tok := range []tokenstore.RefreshToken{first, second, third, revokedFirst} {
		gotGrant, got, err := s.LookupToken(t.Context(), unnamed(tok))
		require.NoError(t, err)
		assert.Equal(t, tok.GrantID, gotGrant.ID)
		assert.Equal(t, tok.Generation, got.Generation)
		assert.True(t, tok.IssuedAt.Equal(got.IssuedAt), "IssuedAt")
		assert.True(t, tok.ExpiresAt.Equal(got.ExpiresAt), "ExpiresAt")
		assert.True(t, tok.UsedAt.Equal(got.UsedAt), "UsedAt")
	}
	gotRevoked, err := s.Grant(t.Context(), revoked.ID)
	require.NoError(t, err)
	assert.True(t, gotRevoked.RevokedAt.Equal(revoked.RevokedAt))
	gotBare, err := s.Grant(t.Context(), bare.ID)
	require.NoError(t, err)
	assert.Equal(t, bare.Subject, gotBare.Subject)
	_, _, err = s.LookupToken(t.Context(), unnamed(orphan))
	require.ErrorIs(t, err, tokenstore.ErrNotFound)
	for _, k := range keys(t, c, prefix) {
		ttl, err := c.PTTL(t.Context(), k).Result()
		require.NoError(t, err)
		assert.Positive(t, ttl, "TTL of %s", k)
		assert.LessOrEqual(t, ttl, 24*time.Hour, "TTL of %s", k)
	}

	// The UseOnce record still refuses a replay.
	require.ErrorIs(t, s.UseOnce(t.Context(), "jti:app:old", now.Add(5*time.Minute), now), tokenstore.ErrReplayed)

	// The live token rotates, once; its successor names the grant.
	res := storetest.RequireRotate(t, s, unnamed(third), now)
	require.Equal(t, 4, res.Token.Generation)
	requireOneLive(t, s, now, unnamed(first), unnamed(second), unnamed(third), storetest.Ref(res.Token))
	_, err = s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: unnamed(third), Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now.Add(time.Second),
	})
	require.ErrorIs(t, err, tokenstore.ErrReused)
	gotGrant, err := s.Grant(t.Context(), g.ID)
	require.NoError(t, err)
	require.True(t, gotGrant.Revoked, "reuse of a migrated token revokes its family")

	// The forked family kept its latest token only.
	live := requireOneLive(t, s, now, unnamed(forkedFirst), unnamed(early), unnamed(late))
	require.Equal(t, unnamed(late), live)
	storetest.RequireRotate(t, s, unnamed(late), now)

	// A used token of the previous layout is never a retry.
	_, err = s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: unnamed(forkedFirst), Next: storetest.NewHash(), ClientID: storetest.ClientID, Now: now,
		RetryWindow: time.Hour,
	})
	require.ErrorIs(t, err, tokenstore.ErrReused)
}
