package redisstore

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/smartauth/smartauth/tokenstore"
)

// legacyKeyspace names the keys of the previous key layout, in which every
// key of a Store had the hash tag "{" + prefix + "}" (one Cluster slot):
//
//	{prefix}g:<grant ID>        grant (hash)
//	{prefix}t:<hex token hash>  refresh-token record (hash)
//	{prefix}o:<key>             UseOnce record (string: expiry, µs)
type legacyKeyspace struct {
	tag string // "{" + prefix + "}"
}

func (k legacyKeyspace) grant(id string) string { return k.tag + "g:" + id }

func (k legacyKeyspace) token(h tokenstore.Hash) string { return k.tag + "t:" + h.String() }

// migrateConcurrency bounds the families MigrateLegacyKeys copies at once.
const migrateConcurrency = 8

// scanCount is the COUNT hint of the SCANs of MigrateLegacyKeys.
const scanCount = 1000

// MigrateLegacyKeys copies the records the previous version of this
// package wrote (the key layout in which every key of the store shared one
// hash tag, "{" + Prefix + "}") into the current layout, and returns the
// number of families (grants with their tokens) it copied.
//
// It SCANs the old keys of the store's Prefix (on every master of a
// Cluster, every shard of a Ring), then copies each family in one script
// run (its grant and tokens, each keeping its remaining time to live) after
// writing the index keys of its tokens, so that a token whose value names
// no grant (all values of the previous version) is found. Families already
// present in the current layout are left alone, so it is idempotent and
// may be run again after an interruption. The family's live token is its
// unused one; a family forked by the previous version's grace period (two
// unused tokens) keeps the one of highest generation, latest issued, and
// the others are marked used. UseOnce records are copied too, unless the
// current layout already has the key. The old keys are not deleted: they
// expire by their TTL.
//
// Run it once after upgrading, with no process of the previous version
// still writing (see the package documentation). It holds the list of old
// token hashes in memory, about 100 bytes per token.
func (s *Store) MigrateLegacyKeys(ctx context.Context) (int, error) {
	families, onceKeys, err := s.scanLegacy(ctx)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	var (
		mu     sync.Mutex
		copied int
	)
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(migrateConcurrency)
	for id, hashes := range families {
		eg.Go(func() error {
			ok, err := s.migrateFamily(ectx, id, hashes, now)
			if ok {
				mu.Lock()
				copied++
				mu.Unlock()
			}
			return err
		})
	}
	for _, key := range onceKeys {
		eg.Go(func() error { return s.migrateOnce(ectx, key, now) })
	}
	err = eg.Wait()
	return copied, err
}

// scanLegacy lists the families (grant ID -> token hashes) and the UseOnce
// keys (with their old prefix) of the old layout.
func (s *Store) scanLegacy(ctx context.Context) (map[string][]tokenstore.Hash, []string, error) {
	var (
		mu       sync.Mutex
		families = make(map[string][]tokenstore.Hash)
		onceKeys []string
	)
	pattern := globEscape(s.legacy.tag)
	err := s.forEachNode(ctx, func(ctx context.Context, node *redis.Client) error {
		err := scanKeys(ctx, node, pattern+"g:*", func(keys []string) error {
			mu.Lock()
			defer mu.Unlock()
			for _, k := range keys {
				id := strings.TrimPrefix(k, s.legacy.tag+"g:")
				if _, ok := families[id]; !ok {
					families[id] = nil
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = scanKeys(ctx, node, pattern+"t:*", func(keys []string) error {
			cmds := make([]*redis.StringCmd, len(keys))
			_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, k := range keys {
					cmds[i] = p.HGet(ctx, k, "grant")
				}
				return nil
			})
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for i, k := range keys {
				id, err := cmds[i].Result()
				if errors.Is(err, redis.Nil) {
					continue // expired since the SCAN
				} else if err != nil {
					return err
				}
				var h tokenstore.Hash
				hexHash := strings.TrimPrefix(k, s.legacy.tag+"t:")
				if len(hexHash) != hex.EncodedLen(len(h)) {
					continue // not a token key of the old layout
				}
				if _, err := hex.Decode(h[:], []byte(hexHash)); err != nil {
					continue
				}
				families[id] = append(families[id], h)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return scanKeys(ctx, node, pattern+"o:*", func(keys []string) error {
			mu.Lock()
			defer mu.Unlock()
			onceKeys = append(onceKeys, keys...)
			return nil
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: migrate: scan: %w", err)
	}
	return families, onceKeys, nil
}

// forEachNode calls fn with every node that may hold keys: each master of
// a Cluster, each shard of a Ring, or the client itself.
func (s *Store) forEachNode(ctx context.Context, fn func(context.Context, *redis.Client) error) error {
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, fn)
	case *redis.Ring:
		return c.ForEachShard(ctx, fn)
	case *redis.Client:
		return fn(ctx, c)
	}
	return fmt.Errorf("unsupported client type %T", s.client)
}

// scanKeys calls fn with each batch of the keys of node that match
// pattern.
func scanKeys(ctx context.Context, node *redis.Client, pattern string, fn func([]string) error) error {
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, pattern, scanCount).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// legacyRecord is a hash record of the old layout and its remaining time
// to live.
type legacyRecord struct {
	fields map[string]string
	ttl    time.Duration
}

// migrateFamily copies one family; it reports whether it wrote it.
func (s *Store) migrateFamily(ctx context.Context, id string, hashes []tokenstore.Hash, now time.Time) (bool, error) {
	grantKey := s.keys.grant(id)
	if n, err := s.client.Exists(ctx, grantKey).Result(); err != nil {
		return false, fmt.Errorf("redisstore: migrate: %w", err)
	} else if n == 1 {
		return false, nil
	}
	g, tokens, err := s.readLegacyFamily(ctx, id, hashes)
	if err != nil || g == nil {
		return false, err
	}

	// The live token: the unused one of highest generation, then latest
	// issued (then highest hash, for a deterministic choice).
	live := -1
	for i, t := range tokens {
		if t.fields == nil || t.fields["used"] != "" {
			continue
		}
		if live < 0 || compareLive(t, tokens[live], hashes[i], hashes[live]) > 0 {
			live = i
		}
	}
	delete(g.fields, "live")
	delete(g.fields, "liveexp")
	if live >= 0 {
		g.fields["live"] = hashes[live].String()
		g.fields["liveexp"] = tokens[live].fields["exp"]
	}

	keys := []string{grantKey}
	args := []any{ttlArg(*g, now), 2 * len(g.fields)}
	args = appendFields(args, g.fields)
	var indexed []int // the tokens to copy
	for i, t := range tokens {
		if t.fields == nil {
			continue
		}
		if t.fields["used"] == "" && i != live {
			t.fields["used"] = formatTime(now) // superseded by the migration
		}
		indexed = append(indexed, i)
		keys = append(keys, s.keys.token(id, hashes[i]))
		args = append(args, ttlArg(t, now), 2*len(t.fields))
		args = appendFields(args, t.fields)
	}

	// Index keys first: a failure after them leaves only index keys naming
	// a grant not (yet) in the current layout, which a rerun completes.
	if len(indexed) > 0 {
		_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range indexed {
				p.Set(ctx, s.keys.index(hashes[i]), id, time.Duration(ttlArg(tokens[i], now))*time.Millisecond)
			}
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("redisstore: migrate: index: %w", err)
		}
	}
	n, err := s.scripts.migrateFamily.Run(ctx, s.client, keys, args...).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: migrate: family: %w", err)
	}
	return n == 1, nil
}

// readLegacyFamily reads a grant of the old layout and its tokens. It
// returns a nil grant if the grant is gone; tokens gone since the SCAN, or
// belonging to another grant, have nil fields.
func (s *Store) readLegacyFamily(ctx context.Context, id string, hashes []tokenstore.Hash) (*legacyRecord, []legacyRecord, error) {
	type reads struct {
		fields *redis.MapStringStringCmd
		ttl    *redis.DurationCmd
	}
	read := func(p redis.Pipeliner, key string) reads {
		return reads{p.HGetAll(ctx, key), p.PTTL(ctx, key)}
	}
	var (
		gr reads
		tr = make([]reads, len(hashes))
	)
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		gr = read(p, s.legacy.grant(id))
		for i, h := range hashes {
			tr[i] = read(p, s.legacy.token(h))
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: migrate: read: %w", err)
	}
	record := func(r reads) legacyRecord {
		f, ttl := r.fields.Val(), r.ttl.Val()
		if len(f) == 0 || ttl == -2 { // -2: the key is gone
			return legacyRecord{}
		}
		return legacyRecord{fields: f, ttl: ttl}
	}
	g := record(gr)
	if g.fields == nil {
		return nil, nil, nil
	}
	tokens := make([]legacyRecord, len(hashes))
	for i := range hashes {
		if t := record(tr[i]); t.fields != nil && t.fields["grant"] == id {
			tokens[i] = t
		}
	}
	return &g, tokens, nil
}

// compareLive orders the unused tokens of a family by generation, issue
// time and hash.
func compareLive(a, b legacyRecord, ah, bh tokenstore.Hash) int {
	num := func(r legacyRecord, f string) int64 {
		n, _ := strconv.ParseInt(r.fields[f], 10, 64)
		return n
	}
	return cmp.Or(
		cmp.Compare(num(a, "gen"), num(b, "gen")),
		cmp.Compare(num(a, "iat"), num(b, "iat")),
		strings.Compare(ah.String(), bh.String()),
	)
}

// ttlArg returns the time to live, in milliseconds, to give the copy of r:
// its remaining TTL, or, if it has none (not written by this package),
// until its "exp" at least MinTTL.
func ttlArg(r legacyRecord, now time.Time) int64 {
	if r.ttl > 0 {
		return max(r.ttl.Milliseconds(), 1)
	}
	exp, _ := strconv.ParseInt(r.fields["exp"], 10, 64)
	return ttlMillis(time.UnixMicro(exp), now)
}

// appendFields appends the field/value pairs of m, in field order.
func appendFields(args []any, m map[string]string) []any {
	for _, f := range slices.Sorted(maps.Keys(m)) {
		args = append(args, f, m[f])
	}
	return args
}

// migrateOnce copies a UseOnce record of the old layout (its old key is
// oldKey), unless the current layout has the key.
func (s *Store) migrateOnce(ctx context.Context, oldKey string, now time.Time) error {
	var (
		val *redis.StringCmd
		ttl *redis.DurationCmd
	)
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		val = p.Get(ctx, oldKey)
		ttl = p.PTTL(ctx, oldKey)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return nil // expired since the SCAN
	}
	if err != nil {
		return fmt.Errorf("redisstore: migrate: read: %w", err)
	}
	r := legacyRecord{fields: map[string]string{"exp": val.Val()}, ttl: ttl.Val()}
	key := strings.TrimPrefix(oldKey, s.legacy.tag+"o:")
	if err := s.client.SetNX(ctx, s.keys.once(key), val.Val(), time.Duration(ttlArg(r, now))*time.Millisecond).Err(); err != nil {
		return fmt.Errorf("redisstore: migrate: %w", err)
	}
	return nil
}

// globEscape escapes the characters SCAN MATCH patterns give a meaning.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
