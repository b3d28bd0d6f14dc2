package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartauth/smartauth/tokenstore"
)

// CreateCode implements tokenstore.CodeStore in one statement: a code
// whose hash or grant ID is taken, or whose grant exists, is
// tokenstore.ErrConflict. c.GrantID must not be empty and c.UsedAt must be
// zero.
func (s *Store) CreateCode(ctx context.Context, c tokenstore.AuthorizationCode) error {
	switch {
	case c.GrantID == "":
		return errors.New("pgstore: CreateCode: empty grant ID")
	case !c.UsedAt.IsZero():
		return errors.New("pgstore: CreateCode: the code is already used")
	}
	tag, err := s.pool.Exec(ctx, s.q.createCode,
		c.Hash[:], c.GrantID, c.ClientID, c.RedirectURI, c.CodeChallenge, c.Scope, c.Subject,
		c.FHIRUser, c.LaunchContext, c.Nonce, nullTime(c.AuthTime), c.IssuedAt, c.ExpiresAt)
	switch {
	case isUniqueViolation(err):
		return tokenstore.ErrConflict
	case err != nil:
		return fmt.Errorf("pgstore: create code: %w", err)
	case tag.RowsAffected() == 0: // the grant exists
		return tokenstore.ErrConflict
	}
	return nil
}

// RedeemCode implements tokenstore.CodeStore. It reads the code first
// (one statement), and calls req.Grant with it. The common case, an
// unused, unexpired code of the right client presented with the right
// binding, is then one statement that marks the code used, if it still is
// not, and inserts the grant and its first refresh token; concurrent
// presentations wait for the code's row lock, then find it used and match
// nothing. Every other case is decided in a short transaction that locks
// the code's row. The order of presentations is the order in which they
// lock that row. A code read as unknown, or as unused and expired, is
// answered at once (no presentation can change that).
func (s *Store) RedeemCode(ctx context.Context, req tokenstore.RedeemRequest) (tokenstore.RedeemResult, error) {
	if err := req.Validate(); err != nil {
		return tokenstore.RedeemResult{}, err
	}
	req.Now = req.Now.Truncate(time.Microsecond)
	var row codeRow
	err := s.pool.QueryRow(ctx, s.q.readCode, req.Code.Hash[:], req.Code.GrantID).Scan(row.dest()...)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return tokenstore.RedeemResult{}, tokenstore.ErrNotFound
	case err != nil:
		return tokenstore.RedeemResult{}, fmt.Errorf("pgstore: redeem code: %w", err)
	}
	c := row.code(req.Code)
	switch err := req.Check(c); {
	case errors.Is(err, tokenstore.ErrExpired):
		return tokenstore.RedeemResult{}, err
	case err == nil:
		res, done, err := s.redeemFast(ctx, req, c)
		if done {
			return res, err
		}
	}
	return s.redeemTx(ctx, req)
}

// redeemFast runs the one-statement redemption of c, which the caller
// read and found redeemable. done is false if the statement matched no
// row: a concurrent presentation used the code first; redeemTx then
// decides.
func (s *Store) redeemFast(ctx context.Context, req tokenstore.RedeemRequest, c tokenstore.AuthorizationCode) (res tokenstore.RedeemResult, done bool, err error) {
	res, err = s.exchange(ctx, s.pool, req, c)
	switch {
	case err == nil:
		return res, true, nil
	case tokenstore.IsRecordError(err):
		return tokenstore.RedeemResult{}, true, err
	case errors.Is(err, pgx.ErrNoRows):
		return tokenstore.RedeemResult{}, false, nil
	}
	return tokenstore.RedeemResult{}, true, fmt.Errorf("pgstore: redeem code: %w", err)
}

// querier is what exchange needs of a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// exchange runs the statement of rule 6: it marks c used, if it is not,
// and inserts the grant and its first token that req.Result makes. It
// returns pgx.ErrNoRows if the code was used already, and
// tokenstore.ErrConflict if the grant or the token exists (the statement
// then writes nothing).
func (s *Store) exchange(ctx context.Context, q querier, req tokenstore.RedeemRequest, c tokenstore.AuthorizationCode) (tokenstore.RedeemResult, error) {
	t := req.Grant(c)
	t.ExpiresAt = t.ExpiresAt.Truncate(time.Microsecond)
	t.IdleTimeout = t.IdleTimeout.Truncate(time.Microsecond)
	res := req.Result(c, t)
	var token any // NULL: no refresh token
	if !res.Token.Hash.IsZero() {
		token = res.Token.Hash[:]
	}
	var id string
	err := q.QueryRow(ctx, s.q.exchangeCode, c.Hash[:], c.GrantID, req.Now,
		res.Grant.ExpiresAt, res.Grant.IdleTimeout.Microseconds(), string(res.Grant.Kind),
		token, res.Token.ExpiresAt).Scan(&id)
	switch {
	case isUniqueViolation(err):
		return tokenstore.RedeemResult{}, tokenstore.ErrConflict
	case err != nil:
		return tokenstore.RedeemResult{}, err
	}
	return normalizeResult(res), nil
}

// normalizeResult returns res with its times in UTC.
func normalizeResult(res tokenstore.RedeemResult) tokenstore.RedeemResult {
	res.Code.UsedAt = res.Code.UsedAt.UTC()
	res.Grant.IssuedAt, res.Grant.ExpiresAt = res.Grant.IssuedAt.UTC(), res.Grant.ExpiresAt.UTC()
	if !res.Token.Hash.IsZero() {
		res.Token = normalizeToken(res.Token)
	}
	return res
}

// redeemTx applies every rule of RedeemCode in a transaction, with the
// code's row locked. Whatever fails or is canceled before the commit
// leaves nothing written.
func (s *Store) redeemTx(ctx context.Context, req tokenstore.RedeemRequest) (tokenstore.RedeemResult, error) {
	res, err := s.redeemLocked(ctx, req)
	if err != nil && !tokenstore.IsRecordError(err) {
		return tokenstore.RedeemResult{}, fmt.Errorf("pgstore: redeem code: %w", err)
	}
	return res, err
}

// redeemLocked is redeemTx without the wrapping of store errors.
func (s *Store) redeemLocked(ctx context.Context, req tokenstore.RedeemRequest) (tokenstore.RedeemResult, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return tokenstore.RedeemResult{}, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit

	var row codeRow
	err = tx.QueryRow(ctx, s.q.lockCode, req.Code.Hash[:], req.Code.GrantID).Scan(row.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return tokenstore.RedeemResult{}, tokenstore.ErrNotFound
	}
	if err != nil {
		return tokenstore.RedeemResult{}, err
	}
	c := row.code(req.Code)

	var res tokenstore.RedeemResult
	result := req.Check(c)
	switch {
	case errors.Is(result, tokenstore.ErrReused): // rule 2
		g := c.RevokedGrant(req.Now)
		_, err = tx.Exec(ctx, s.q.revokeOrPlaceholder,
			g.ID, g.ClientID, g.Subject, g.FHIRUser, g.Scope, g.RevokedAt, g.ExpiresAt)
	case errors.Is(result, tokenstore.ErrExpired): // rule 4
		return tokenstore.RedeemResult{}, result
	case result != nil: // rules 3 and 5: consumed
		_, err = tx.Exec(ctx, s.q.useCode, c.Hash[:], req.Now)
	default: // rule 6
		res, err = s.exchange(ctx, tx, req, c)
		if errors.Is(err, pgx.ErrNoRows) { // the row is locked and was unused
			err = errors.New("the redemption of an unused locked code matched no row")
		}
	}
	if err != nil {
		return tokenstore.RedeemResult{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return tokenstore.RedeemResult{}, err
	}
	if result != nil {
		return tokenstore.RedeemResult{}, result
	}
	return res, nil
}

// CreateLaunch implements tokenstore.CodeStore in one statement.
func (s *Store) CreateLaunch(ctx context.Context, l tokenstore.Launch) error {
	_, err := s.pool.Exec(ctx, s.q.createLaunch, l.Hash[:], l.ClientID, l.LaunchContext, l.IssuedAt, l.ExpiresAt)
	if isUniqueViolation(err) {
		return tokenstore.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("pgstore: create launch: %w", err)
	}
	return nil
}

// ConsumeLaunch implements tokenstore.CodeStore in one statement, a
// DELETE … RETURNING: of concurrent calls, the one that deletes the row
// gets the launch. The statement is sent at most once (pgx does not
// resend a statement that may have reached the server). ref.GrantID is
// ignored.
func (s *Store) ConsumeLaunch(ctx context.Context, ref tokenstore.TokenRef, now time.Time) (tokenstore.Launch, error) {
	l := tokenstore.Launch{Hash: ref.Hash}
	err := s.pool.QueryRow(ctx, s.q.consumeLaunch, ref.Hash[:]).Scan(&l.ClientID, &l.LaunchContext, &l.IssuedAt, &l.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return tokenstore.Launch{}, tokenstore.ErrNotFound
	}
	if err != nil {
		return tokenstore.Launch{}, fmt.Errorf("pgstore: consume launch: %w", err)
	}
	l.IssuedAt, l.ExpiresAt = l.IssuedAt.UTC(), l.ExpiresAt.UTC()
	if !now.Before(l.ExpiresAt) {
		return tokenstore.Launch{}, tokenstore.ErrExpired
	}
	return l, nil
}

// codeRow receives the codeColumns of a row.
type codeRow struct {
	c                tokenstore.AuthorizationCode
	authTime, usedAt *time.Time
}

func (r *codeRow) dest() []any {
	return []any{&r.c.ClientID, &r.c.RedirectURI, &r.c.CodeChallenge, &r.c.Scope, &r.c.Subject, &r.c.FHIRUser,
		&r.c.LaunchContext, &r.c.Nonce, &r.authTime, &r.c.IssuedAt, &r.c.ExpiresAt, &r.usedAt}
}

// code returns the scanned code, found by ref, its times in UTC.
func (r *codeRow) code(ref tokenstore.TokenRef) tokenstore.AuthorizationCode {
	c := r.c
	c.Hash, c.GrantID = ref.Hash, ref.GrantID
	c.IssuedAt, c.ExpiresAt = c.IssuedAt.UTC(), c.ExpiresAt.UTC()
	if r.authTime != nil {
		c.AuthTime = r.authTime.UTC()
	}
	if r.usedAt != nil {
		c.UsedAt = r.usedAt.UTC()
	}
	return c
}
