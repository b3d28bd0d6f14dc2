package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartauth/smartauth/tokenstore"
)

// DefaultPrefix is the key prefix a Store uses when Options.Prefix is empty.
const DefaultPrefix = "smartauth:"

// MinTTL is the shortest time to live CreateGrant and UseOnce give a key,
// even if the record expires sooner (or has already expired) by the
// caller's clock: the store still answers tokenstore.ErrExpired rather than
// tokenstore.ErrNotFound for a record written just before its expiry, and
// the record's own expiry, not the key's TTL, decides every answer.
const MinTTL = time.Minute

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Prefix starts the name of every key of the store, so that several
	// stores (or other applications) can share a Redis database. Keys are
	// named "{" + Prefix + "}" + kind + ":" + id, the braces making Prefix
	// the Redis Cluster hash tag of every key (see the package
	// documentation). Prefix must not contain '{' or '}'. Empty means
	// DefaultPrefix.
	Prefix string
}

// Store is a tokenstore.Store kept in Redis. It is safe for concurrent use,
// and any number of Stores in any number of processes may share the same
// keys (same Redis, same Prefix). Create it with New.
type Store struct {
	client  redis.UniversalClient
	keys    keyspace
	scripts scripts
}

var _ tokenstore.Store = (*Store)(nil)

// New returns a Store that keeps its records in the Redis reached through
// client: a *redis.Client (single node or Sentinel failover), a
// *redis.ClusterClient or a *redis.Ring. The caller owns the client and
// closes it. New panics if opts.Prefix contains '{' or '}', which would
// break the hash tag.
func New(client redis.UniversalClient, opts Options) *Store {
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if strings.ContainsAny(prefix, "{}") {
		panic("redisstore: Options.Prefix must not contain '{' or '}'")
	}
	return &Store{
		client:  client,
		keys:    keyspace{tag: "{" + prefix + "}"},
		scripts: newScripts(),
	}
}

// CreateGrant implements tokenstore.Store. g.ID must not be empty, and
// first.GrantID must be empty or g.ID; a zero first.Generation is stored as
// 1. The keys get a time to live computed from g.IssuedAt (or, if zero,
// first.IssuedAt, or else the current time) as the caller's "now".
//
// Like Rotate, CreateGrant recognises a resend of itself (go-redis resends
// a command after a connection error): finding the same grant with the
// same first token already stored, it succeeds.
func (s *Store) CreateGrant(ctx context.Context, g tokenstore.Grant, first tokenstore.RefreshToken) error {
	if g.ID == "" {
		return errors.New("redisstore: CreateGrant: empty grant ID")
	}
	switch first.GrantID {
	case "":
		first.GrantID = g.ID
	case g.ID:
	default:
		return errors.New("redisstore: CreateGrant: first token belongs to another grant")
	}
	if first.Generation == 0 {
		first.Generation = 1
	}
	now := g.IssuedAt
	if now.IsZero() {
		now = first.IssuedAt
	}
	if now.IsZero() {
		now = time.Now()
	}

	gargs, targs := append(grantArgs(g), "first", first.Hash.String()), tokenArgs(first)
	args := make([]any, 0, 3+len(gargs)+len(targs))
	args = append(args, ttlMillis(g.ExpiresAt, now), ttlMillis(first.ExpiresAt, now), len(gargs))
	args = append(args, gargs...)
	args = append(args, targs...)
	status, err := s.scripts.createGrant.Run(ctx, s.client,
		[]string{s.keys.grant(g.ID), s.keys.token(first.Hash)}, args...).Text()
	if err != nil {
		return fmt.Errorf("redisstore: create grant: %w", err)
	}
	return statusErr(status)
}

// Rotate implements tokenstore.Store in one script run: one round trip.
//
// If the reply to a successful rotation is lost and the same request is
// sent again (go-redis resends a command after a connection error), the
// second run recognises it by its Next hash and Now and returns the
// successor it already created, rather than reporting reuse.
func (s *Store) Rotate(ctx context.Context, req tokenstore.RotateRequest) (tokenstore.RotateResult, error) {
	res, err := s.scripts.rotate.Run(ctx, s.client,
		[]string{s.keys.token(req.Presented), s.keys.token(req.Next)},
		s.keys.grantPrefix(), req.ClientID, formatTime(req.Now),
		strconv.FormatInt(req.GracePeriod.Microseconds(), 10),
	).Slice()
	if err != nil {
		return tokenstore.RotateResult{}, fmt.Errorf("redisstore: rotate: %w", err)
	}
	if len(res) == 0 {
		return tokenstore.RotateResult{}, errors.New("redisstore: rotate: empty reply")
	}
	if status, _ := res[0].(string); status != "ok" {
		return tokenstore.RotateResult{}, statusErr(status)
	}
	if len(res) != 6+len(grantFields)-1 {
		return tokenstore.RotateResult{}, fmt.Errorf("redisstore: rotate: malformed reply: %d values", len(res))
	}
	tok, err := parseToken(req.Next, []any{res[2], res[3], res[4], res[5], nil})
	if err != nil {
		return tokenstore.RotateResult{}, err
	}
	g, err := parseGrant(tok.GrantID, res[6:])
	if err != nil {
		return tokenstore.RotateResult{}, err
	}
	return tokenstore.RotateResult{Grant: g, Token: tok, Grace: res[1] == "1"}, nil
}

// LookupToken implements tokenstore.Store in one script run.
func (s *Store) LookupToken(ctx context.Context, hash tokenstore.Hash) (tokenstore.Grant, tokenstore.RefreshToken, error) {
	res, err := s.scripts.lookup.Run(ctx, s.client, []string{s.keys.token(hash)}, s.keys.grantPrefix()).Result()
	if err != nil {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, fmt.Errorf("redisstore: lookup token: %w", err)
	}
	vals, ok := res.([]any)
	if !ok {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, tokenstore.ErrNotFound
	}
	if len(vals) != len(tokenFields)+len(grantFields) {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, fmt.Errorf("redisstore: lookup token: malformed reply: %d values", len(vals))
	}
	tok, err := parseToken(hash, vals[:len(tokenFields)])
	if err != nil {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, err
	}
	g, err := parseGrant(tok.GrantID, vals[len(tokenFields):])
	if err != nil {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, err
	}
	return g, tok, nil
}

// Grant implements tokenstore.Store.
func (s *Store) Grant(ctx context.Context, grantID string) (tokenstore.Grant, error) {
	vals, err := s.client.HMGet(ctx, s.keys.grant(grantID), grantFields...).Result()
	if err != nil {
		return tokenstore.Grant{}, fmt.Errorf("redisstore: grant: %w", err)
	}
	if len(vals) == 0 || vals[0] == nil {
		return tokenstore.Grant{}, tokenstore.ErrNotFound
	}
	return parseGrant(grantID, vals)
}

// RevokeGrant implements tokenstore.Store. Revoking a revoked grant keeps
// its first RevokedAt.
func (s *Store) RevokeGrant(ctx context.Context, grantID string, now time.Time) error {
	status, err := s.scripts.revoke.Run(ctx, s.client, []string{s.keys.grant(grantID)}, formatTime(now)).Text()
	if err != nil {
		return fmt.Errorf("redisstore: revoke grant: %w", err)
	}
	return statusErr(status)
}

// UseOnce implements tokenstore.Store. A key whose expiresAt is not after
// now is accepted and not recorded: it has already expired.
func (s *Store) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	status, err := s.scripts.useOnce.Run(ctx, s.client, []string{s.keys.once(key)},
		formatTime(expiresAt), formatTime(now), ttlMillis(expiresAt, now)).Text()
	if err != nil {
		return fmt.Errorf("redisstore: use once: %w", err)
	}
	return statusErr(status)
}

// statusErr maps a script status to the sentinel error it stands for.
func statusErr(status string) error {
	switch status {
	case "ok":
		return nil
	case "notfound":
		return tokenstore.ErrNotFound
	case "client":
		return tokenstore.ErrClientMismatch
	case "revoked":
		return tokenstore.ErrRevoked
	case "expired":
		return tokenstore.ErrExpired
	case "reused":
		return tokenstore.ErrReused
	case "conflict":
		return tokenstore.ErrConflict
	case "replayed":
		return tokenstore.ErrReplayed
	}
	return fmt.Errorf("redisstore: unexpected script status %q", status)
}

// ttlMillis is the time to live, in milliseconds, of a record expiring at
// exp when written at now: at least MinTTL.
func ttlMillis(exp, now time.Time) int64 {
	d := exp.Sub(now)
	if d < MinTTL {
		d = MinTTL
	}
	return (d + time.Millisecond - 1).Milliseconds()
}
