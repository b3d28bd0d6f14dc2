package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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

// MinTTL is the shortest time to live the store gives a key, even if the
// record expires sooner (or has already expired) by the caller's clock:
// the store still answers tokenstore.ErrExpired rather than
// tokenstore.ErrNotFound for a record written just before its expiry, and
// the record's own expiry, not the key's TTL, decides every answer.
const MinTTL = time.Minute

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Prefix starts the name of every key of the store, so that several
	// stores (or other applications) can share a Redis database or
	// Cluster. It must not contain '{' or '}': the braces after it delimit
	// the Redis Cluster hash tag of each key (see the package
	// documentation). Empty means DefaultPrefix.
	Prefix string
}

// Store is a tokenstore.Store kept in Redis. It is safe for concurrent use,
// and any number of Stores in any number of processes may share the same
// keys (same Redis, same Prefix). Create it with New.
type Store struct {
	client  redis.UniversalClient
	keys    keyspace
	legacy  legacyKeyspace
	scripts scripts
}

var _ tokenstore.Store = (*Store)(nil)

// New returns a Store that keeps its records in the Redis reached through
// client: a *redis.Client (single node or Sentinel failover), a
// *redis.ClusterClient (families are spread over the Cluster's slots) or a
// *redis.Ring. The caller owns the client and closes it.
//
// The client must be created with ContextTimeoutEnabled: true, so that
// the deadline of a call's context bounds the wait for Redis's reply:
// without it, a Redis that stops answering holds every call for the
// client's ReadTimeout, retries included, whatever the caller's deadline.
//
// New panics if opts.Prefix contains '{' or '}', which would break the
// hash tags.
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
		keys:    keyspace{prefix: prefix},
		legacy:  legacyKeyspace{tag: "{" + prefix + "}"},
		scripts: newScripts(),
	}
}

// CreateGrant implements tokenstore.Store. g.ID must not be empty, and
// first.GrantID must be empty or g.ID; a zero first.Generation is stored as
// 1. The keys get a time to live computed from g.IssuedAt (or, if zero,
// first.IssuedAt, or else the current time) as the caller's "now".
//
// It takes two round trips: the first writes the index key that lets
// LookupToken and Rotate find the first token when its value does not name
// the grant (and refuses a hash already indexed for another grant), the
// second the family. An interruption between them leaves at most an index
// key naming a grant that does not hold the token: it expires with the
// grant's lifetime and makes nothing valid.
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
	grantTTL := ttlMillis(g.ExpiresAt, now)

	indexKey := s.keys.index(first.Hash)
	indexed, err := s.scripts.index.Run(ctx, s.client, []string{indexKey}, g.ID, grantTTL).Text()
	if err != nil {
		return fmt.Errorf("redisstore: create grant: index: %w", err)
	}
	if indexed == "conflict" {
		return tokenstore.ErrConflict
	}

	firstHex := first.Hash.String()
	gargs := append(grantArgs(g), "first", firstHex)
	if first.UsedAt.IsZero() {
		gargs = append(gargs, "live", firstHex, "liveexp", formatTime(first.ExpiresAt))
	}
	targs := tokenArgs(first)
	args := make([]any, 0, 3+len(gargs)+len(targs))
	args = append(args, grantTTL, ttlMillis(first.ExpiresAt, now), len(gargs))
	args = append(args, gargs...)
	args = append(args, targs...)
	status, err := s.scripts.createGrant.Run(ctx, s.client,
		[]string{s.keys.grant(g.ID), s.keys.token(g.ID, first.Hash)}, args...).Text()
	if err != nil {
		return fmt.Errorf("redisstore: create grant: %w", err)
	}
	if status == "conflict" && indexed == "new" {
		// Nothing of the family was written: take back the index key this
		// call wrote, so that the hash stays free. Best effort: a left-over
		// index key is harmless.
		_ = s.scripts.unindex.Run(ctx, s.client, []string{indexKey}, g.ID).Err()
	}
	return statusErr(status)
}

// Rotate implements tokenstore.Store in one script run, one round trip,
// when the presented value names its grant (tokenstore.NewRefreshToken);
// otherwise the grant ID is read from the token's index key first (two
// round trips).
//
// If the reply to a rotation is lost and the same request is sent again
// (go-redis resends a command after a connection error), the second run
// recognises it, Next being already the presented token's current
// successor, and answers as the first run did.
func (s *Store) Rotate(ctx context.Context, req tokenstore.RotateRequest) (tokenstore.RotateResult, error) {
	var res tokenstore.RotateResult
	err := s.inFamily(ctx, req.Presented, func(grantID string) error {
		var err error
		res, err = s.rotate(ctx, grantID, req)
		return err
	})
	if err != nil {
		return tokenstore.RotateResult{}, err
	}
	return res, nil
}

// rotateReplyLen is the length of a successful reply of rotateLua.
var rotateReplyLen = 5 + len(grantFields) - 1

func (s *Store) rotate(ctx context.Context, grantID string, req tokenstore.RotateRequest) (tokenstore.RotateResult, error) {
	if req.RetryWindow < 0 {
		req.RetryWindow = 0
	}
	res, err := s.scripts.rotate.Run(ctx, s.client,
		[]string{s.keys.grant(grantID), s.keys.token(grantID, req.Presented.Hash), s.keys.token(grantID, req.Next)},
		grantID, req.ClientID, formatTime(req.Now),
		strconv.FormatInt(req.RetryWindow.Microseconds(), 10),
		req.Next.String(), req.Presented.Hash.String(), MinTTL.Milliseconds(),
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
	if len(res) != rotateReplyLen {
		return tokenstore.RotateResult{}, fmt.Errorf("redisstore: rotate: malformed reply: %d values", len(res))
	}
	tok, err := parseToken(req.Next, []any{grantID, res[2], res[3], res[4], nil})
	if err != nil {
		return tokenstore.RotateResult{}, err
	}
	g, err := parseGrant(grantID, res[5:])
	if err != nil {
		return tokenstore.RotateResult{}, err
	}
	return tokenstore.RotateResult{Grant: g, Token: tok, Retry: res[1] == "1"}, nil
}

// LookupToken implements tokenstore.Store in one script run (after a read
// of the token's index key if its value does not name its grant).
func (s *Store) LookupToken(ctx context.Context, ref tokenstore.TokenRef) (tokenstore.Grant, tokenstore.RefreshToken, error) {
	var (
		g   tokenstore.Grant
		tok tokenstore.RefreshToken
	)
	err := s.inFamily(ctx, ref, func(grantID string) error {
		var err error
		g, tok, err = s.lookup(ctx, grantID, ref.Hash)
		return err
	})
	if err != nil {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, err
	}
	return g, tok, nil
}

func (s *Store) lookup(ctx context.Context, grantID string, h tokenstore.Hash) (tokenstore.Grant, tokenstore.RefreshToken, error) {
	res, err := s.scripts.lookup.Run(ctx, s.client,
		[]string{s.keys.grant(grantID), s.keys.token(grantID, h)}, grantID, h.String()).Result()
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
	tok, err := parseToken(h, vals[:len(tokenFields)])
	if err != nil {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, err
	}
	g, err := parseGrant(grantID, vals[len(tokenFields):])
	if err != nil {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, err
	}
	return g, tok, nil
}

// inFamily calls fn with the ID of the grant ref's token belongs to: the
// one its value names or, if it names none, the one its index key holds.
// A token whose value names a grant that does not hold it may still be a
// first token chosen by the host in that shape: if fn reports
// tokenstore.ErrNotFound, inFamily tries the grant of the index key, if
// it is another one.
func (s *Store) inFamily(ctx context.Context, ref tokenstore.TokenRef, fn func(grantID string) error) error {
	if ref.GrantID != "" {
		err := fn(ref.GrantID)
		if !errors.Is(err, tokenstore.ErrNotFound) {
			return err
		}
		id, ierr := s.indexed(ctx, ref.Hash)
		if ierr != nil {
			if errors.Is(ierr, tokenstore.ErrNotFound) {
				return err
			}
			return ierr
		}
		if id == ref.GrantID {
			return err
		}
		return fn(id)
	}
	id, err := s.indexed(ctx, ref.Hash)
	if err != nil {
		return err
	}
	return fn(id)
}

// indexed returns the grant ID the index key of h holds, or
// tokenstore.ErrNotFound.
func (s *Store) indexed(ctx context.Context, h tokenstore.Hash) (string, error) {
	id, err := s.client.Get(ctx, s.keys.index(h)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", tokenstore.ErrNotFound
	case err != nil:
		return "", fmt.Errorf("redisstore: token index: %w", err)
	}
	return id, nil
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
//
// Each call stores a random nonce with the key: if go-redis resends the
// call after losing its reply, the resend finds the call's own record and
// succeeds, while another call with the same key gets
// tokenstore.ErrReplayed.
func (s *Store) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	status, err := s.scripts.useOnce.Run(ctx, s.client, []string{s.keys.once(key)},
		formatTime(expiresAt), formatTime(now), ttlMillis(expiresAt, now), newNonce()).Text()
	if err != nil {
		return fmt.Errorf("redisstore: use once: %w", err)
	}
	return statusErr(status)
}

// newNonce returns 128 random bits, base64url-encoded.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24).
	return base64.RawURLEncoding.EncodeToString(b[:])
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
	case "redirect":
		return tokenstore.ErrRedirectMismatch
	case "challenge":
		return tokenstore.ErrChallengeMismatch
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
