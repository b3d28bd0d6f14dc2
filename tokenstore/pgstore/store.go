package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/smartauth/smartauth/tokenstore"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Schema is the schema of the tables. Empty means DefaultSchema
	// ("public").
	Schema string
	// TablePrefix starts the names of the tables (and indexes). Empty
	// means DefaultTablePrefix ("smartauth_").
	TablePrefix string
}

// Store is a tokenstore.Store kept in PostgreSQL. It is safe for
// concurrent use, and any number of Stores in any number of processes may
// share the same tables. Create it with New, and the tables with Migrate
// (or schema.sql).
type Store struct {
	pool  *pgxpool.Pool
	names names
	q     queries
}

var (
	_ tokenstore.Store     = (*Store)(nil)
	_ tokenstore.CodeStore = (*Store)(nil)
	_ tokenstore.Sweeper   = (*Store)(nil)
)

// New returns a Store that keeps its records in the tables named by opts,
// in the database of pool. The caller owns the pool and closes it. New does
// no I/O; it fails only if opts names an invalid schema or prefix: both
// must be plain identifiers (letters, digits, underscores, not starting
// with a digit) short enough for PostgreSQL's 63-byte names.
func New(pool *pgxpool.Pool, opts Options) (*Store, error) {
	n, err := newNames(opts)
	if err != nil {
		return nil, err
	}
	return &Store{pool: pool, names: n, q: newQueries(n)}, nil
}

// SchemaSQL returns the SQL that Migrate runs: schema.sql with the schema
// and table names of the Store's Options.
func (s *Store) SchemaSQL() string { return s.names.ddl() }

// Migrate creates the schema, tables and indexes of the Store if they do
// not exist. It is idempotent and safe to run from several processes at
// once (they take turns on an advisory lock). It needs the right to create
// in the schema; where the application's role lacks it, run SchemaSQL (or
// schema.sql) as an administrator instead.
func (s *Store) Migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('smartauth/tokenstore/pgstore.Migrate'))`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, s.names.ddl())
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}

// CreateGrant implements tokenstore.Store in one statement. g.ID must not
// be empty, and first.GrantID must be empty or g.ID; a zero
// first.Generation is stored as 1.
func (s *Store) CreateGrant(ctx context.Context, g tokenstore.Grant, first tokenstore.RefreshToken) error {
	if g.ID == "" {
		return errors.New("pgstore: CreateGrant: empty grant ID")
	}
	switch first.GrantID {
	case "", g.ID:
	default:
		return errors.New("pgstore: CreateGrant: first token belongs to another grant")
	}
	if first.Generation == 0 {
		first.Generation = 1
	}
	_, err := s.pool.Exec(ctx, s.q.createGrant,
		g.ID, g.ClientID, g.Subject, g.FHIRUser, g.Scope, g.LaunchContext,
		g.IssuedAt, g.ExpiresAt, g.IdleTimeout.Microseconds(), string(g.Kind), revokedAt(g),
		first.Hash[:], first.Generation, first.IssuedAt, first.ExpiresAt, nullTime(first.UsedAt))
	if isUniqueViolation(err) {
		return tokenstore.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("pgstore: create grant: %w", err)
	}
	return nil
}

// Rotate implements tokenstore.Store. The common case, a valid unused
// token, is one statement (one round trip); every other case is decided in
// a short transaction that locks the presented token's row. The order of
// presentations is the order in which they lock that row; the retry window
// is measured on the database's clock (clock_timestamp()). It ignores
// req.Presented.GrantID: the hash alone finds the token.
func (s *Store) Rotate(ctx context.Context, req tokenstore.RotateRequest) (tokenstore.RotateResult, error) {
	now := req.Now.Truncate(time.Microsecond)
	res, done, err := s.rotateFast(ctx, req, now)
	if done {
		return res, err
	}
	return s.rotateTx(ctx, req, now)
}

// rotateFast runs the one-statement rotation. done is false if the
// statement matched no row: some rule other than 6 applies, or a
// concurrent presentation won; rotateTx then decides.
func (s *Store) rotateFast(ctx context.Context, req tokenstore.RotateRequest, now time.Time) (res tokenstore.RotateResult, done bool, err error) {
	var (
		row  grantRow
		next tokenstore.RefreshToken
	)
	err = s.pool.QueryRow(ctx, s.q.rotate, req.Presented.Hash[:], req.Next[:], req.ClientID, now).Scan(
		append([]any{&next.GrantID, &next.Generation, &next.ExpiresAt}, row.dest()...)...)
	switch {
	case err == nil:
		next.Hash, next.IssuedAt = req.Next, now
		return tokenstore.RotateResult{Grant: row.grant(next.GrantID), Token: normalizeToken(next)}, true, nil
	case isUniqueViolation(err):
		return tokenstore.RotateResult{}, true, tokenstore.ErrConflict
	case errors.Is(err, pgx.ErrNoRows):
		return tokenstore.RotateResult{}, false, nil
	}
	return tokenstore.RotateResult{}, true, fmt.Errorf("pgstore: rotate: %w", err)
}

// rotateTx applies every rule of Rotate in a transaction, with the
// presented token's row locked. Whatever fails or is canceled before the
// commit leaves nothing written.
func (s *Store) rotateTx(ctx context.Context, req tokenstore.RotateRequest, now time.Time) (tokenstore.RotateResult, error) {
	res, err := s.rotateLocked(ctx, req, now)
	if err != nil && !tokenstore.IsRecordError(err) {
		return tokenstore.RotateResult{}, fmt.Errorf("pgstore: rotate: %w", err)
	}
	return res, err
}

// rotateLocked is rotateTx without the wrapping of store errors.
func (s *Store) rotateLocked(ctx context.Context, req tokenstore.RotateRequest, now time.Time) (tokenstore.RotateResult, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return tokenstore.RotateResult{}, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit

	var (
		trow       tokenRow
		row        grantRow
		acceptedAt *time.Time
		successor  []byte
	)
	dest := append(trow.dest(), &acceptedAt, &successor)
	err = tx.QueryRow(ctx, s.q.lockToken, req.Presented.Hash[:]).Scan(append(dest, row.dest()...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return tokenstore.RotateResult{}, tokenstore.ErrNotFound
	}
	if err != nil {
		return tokenstore.RotateResult{}, err
	}
	tok := trow.token(req.Presented.Hash)
	g := row.grant(tok.GrantID)
	used := !tok.UsedAt.IsZero()

	// Rules 2 to 4.
	switch {
	case g.ClientID != req.ClientID && used:
		return tokenstore.RotateResult{}, s.revokeForReuse(ctx, tx, g.ID, now)
	case g.ClientID != req.ClientID:
		return tokenstore.RotateResult{}, tokenstore.ErrClientMismatch
	case g.Revoked:
		return tokenstore.RotateResult{}, tokenstore.ErrRevoked
	case !now.Before(g.ExpiresAt), !now.Before(tok.ExpiresAt):
		return tokenstore.RotateResult{}, tokenstore.ErrExpired
	}

	next := normalizeToken(tokenstore.RefreshToken{
		Hash:       req.Next,
		GrantID:    g.ID,
		Generation: tok.Generation + 1,
		IssuedAt:   now,
		ExpiresAt:  g.NextExpiry(now),
	})
	args := []any{req.Presented.Hash[:], next.Hash[:], next.GrantID, next.Generation, next.IssuedAt, next.ExpiresAt}
	q := s.q.acceptFirst // rule 6
	if used {
		// Rule 5: a retry if the statement finds the successor alive
		// within the window; reuse otherwise.
		if req.RetryWindow <= 0 || acceptedAt == nil || successor == nil {
			return tokenstore.RotateResult{}, s.revokeForReuse(ctx, tx, g.ID, now)
		}
		q = s.q.acceptRetry
		args = append(args, successor, *acceptedAt, req.RetryWindow.Microseconds())
	}
	tag, err := tx.Exec(ctx, q, args...)
	switch {
	case isUniqueViolation(err): // rule 7; the transaction is rolled back
		return tokenstore.RotateResult{}, tokenstore.ErrConflict
	case err != nil:
		return tokenstore.RotateResult{}, err
	case tag.RowsAffected() == 0 && used:
		return tokenstore.RotateResult{}, s.revokeForReuse(ctx, tx, g.ID, now)
	case tag.RowsAffected() != 1:
		return tokenstore.RotateResult{}, fmt.Errorf("rotation updated %d rows, want 1", tag.RowsAffected())
	}
	if err := tx.Commit(ctx); err != nil {
		return tokenstore.RotateResult{}, err
	}
	return tokenstore.RotateResult{Grant: g, Token: next, Retry: used}, nil
}

// revokeForReuse revokes the grant at now in tx, commits, and returns
// ErrReused; or the error that prevented it.
func (s *Store) revokeForReuse(ctx context.Context, tx pgx.Tx, grantID string, now time.Time) error {
	if _, err := tx.Exec(ctx, s.q.revokeReuse, grantID, now); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	return tokenstore.ErrReused
}

// LookupToken implements tokenstore.Store. It ignores ref.GrantID: the
// hash alone finds the token.
func (s *Store) LookupToken(ctx context.Context, ref tokenstore.TokenRef) (tokenstore.Grant, tokenstore.RefreshToken, error) {
	var (
		trow tokenRow
		row  grantRow
	)
	hash := ref.Hash
	err := s.pool.QueryRow(ctx, s.q.lookup, hash[:]).Scan(append(trow.dest(), row.dest()...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, tokenstore.ErrNotFound
	}
	if err != nil {
		return tokenstore.Grant{}, tokenstore.RefreshToken{}, fmt.Errorf("pgstore: lookup token: %w", err)
	}
	tok := trow.token(hash)
	return row.grant(tok.GrantID), tok, nil
}

// Grant implements tokenstore.Store.
func (s *Store) Grant(ctx context.Context, grantID string) (tokenstore.Grant, error) {
	var row grantRow
	err := s.pool.QueryRow(ctx, s.q.grant, grantID).Scan(row.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return tokenstore.Grant{}, tokenstore.ErrNotFound
	}
	if err != nil {
		return tokenstore.Grant{}, fmt.Errorf("pgstore: grant: %w", err)
	}
	return row.grant(grantID), nil
}

// RevokeGrant implements tokenstore.Store. Revoking a revoked grant keeps
// its first RevokedAt.
func (s *Store) RevokeGrant(ctx context.Context, grantID string, now time.Time) error {
	tag, err := s.pool.Exec(ctx, s.q.revoke, grantID, now)
	if err != nil {
		return fmt.Errorf("pgstore: revoke grant: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return tokenstore.ErrNotFound
	}
	return nil
}

// UseOnce implements tokenstore.Store in one statement. A key whose
// expiresAt is not after now is accepted (its record is already expired).
// The statement is sent at most once (pgx does not resend a statement that
// may have reached the server), so a call never meets its own record.
// A key that is longer than MaxPlainKeyLen bytes, is not valid UTF-8,
// contains a NUL byte or starts with "sha256:" is recorded as "sha256:"
// followed by the hex SHA-256 of the key, so that any key can be recorded.
func (s *Store) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	tag, err := s.pool.Exec(ctx, s.q.useOnce, storedKey(key), expiresAt, now)
	if err != nil {
		return fmt.Errorf("pgstore: use once: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return tokenstore.ErrReplayed
	}
	return nil
}

// Sweep implements tokenstore.Sweeper: it deletes the grants whose
// ExpiresAt is not after now with all their refresh tokens (the revoked
// placeholders of reused codes among them), the refresh tokens whose own
// ExpiresAt is not after now, the expired UseOnce records, the
// authorization codes whose ExpiresAt + tokenstore.CodeRetention is not
// after now and the launches whose ExpiresAt is not after now, and
// returns how many rows it deleted. Schedule it (every few
// minutes, say) from one or more processes; each statement is short and
// independent, so an interrupted Sweep is simply resumed by the next one.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []string{s.q.sweepTokens, s.q.sweepGrants, s.q.sweepOnce, s.q.sweepCodes, s.q.sweepLaunches} {
		tag, err := s.pool.Exec(ctx, q, now)
		if err != nil {
			return total, fmt.Errorf("pgstore: sweep: %w", err)
		}
		total += tag.RowsAffected()
	}
	return total, nil
}

// grantRow receives the grantColumns of a row.
type grantRow struct {
	g         tokenstore.Grant
	idleMicro int64
	kind      string
	revokedAt *time.Time
}

func (r *grantRow) dest() []any {
	return []any{&r.g.ClientID, &r.g.Subject, &r.g.FHIRUser, &r.g.Scope, &r.g.LaunchContext,
		&r.g.IssuedAt, &r.g.ExpiresAt, &r.idleMicro, &r.kind, &r.revokedAt}
}

// grant returns the scanned grant, its times in UTC.
func (r *grantRow) grant(id string) tokenstore.Grant {
	g := r.g
	g.ID = id
	g.IdleTimeout = time.Duration(r.idleMicro) * time.Microsecond
	g.Kind = tokenstore.Kind(r.kind)
	g.IssuedAt, g.ExpiresAt = g.IssuedAt.UTC(), g.ExpiresAt.UTC()
	if r.revokedAt != nil {
		g.Revoked, g.RevokedAt = true, r.revokedAt.UTC()
	}
	return g
}

// tokenRow receives the token columns of a row: grant_id, generation,
// issued_at, expires_at, used_at.
type tokenRow struct {
	t      tokenstore.RefreshToken
	usedAt *time.Time
}

func (r *tokenRow) dest() []any {
	return []any{&r.t.GrantID, &r.t.Generation, &r.t.IssuedAt, &r.t.ExpiresAt, &r.usedAt}
}

// token returns the scanned token, its times in UTC.
func (r *tokenRow) token(h tokenstore.Hash) tokenstore.RefreshToken {
	t := r.t
	t.Hash = h
	if r.usedAt != nil {
		t.UsedAt = *r.usedAt
	}
	return normalizeToken(t)
}

// normalizeToken returns t with its times in UTC.
func normalizeToken(t tokenstore.RefreshToken) tokenstore.RefreshToken {
	t.IssuedAt, t.ExpiresAt = t.IssuedAt.UTC(), t.ExpiresAt.UTC()
	if !t.UsedAt.IsZero() {
		t.UsedAt = t.UsedAt.UTC()
	}
	return t
}

// revokedAt is the revoked_at value of g: NULL unless g is revoked.
func revokedAt(g tokenstore.Grant) any {
	if !g.Revoked {
		return nil
	}
	return g.RevokedAt
}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// MaxPlainKeyLen is the length up to which UseOnce records a key as it is.
const MaxPlainKeyLen = 256

// storedKey is the one_time_keys.key value of a UseOnce key.
func storedKey(key string) string {
	const hashed = "sha256:"
	if len(key) <= MaxPlainKeyLen && utf8.ValidString(key) && !strings.ContainsRune(key, 0) && !strings.HasPrefix(key, hashed) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return hashed + hex.EncodeToString(sum[:])
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
