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

// RedeemCode implements tokenstore.CodeStore. The common case, an unused
// unexpired code of the right client, is one statement (one round trip);
// every other case is decided in a short transaction that locks the
// code's row. The order of presentations is the order in which they lock
// that row.
func (s *Store) RedeemCode(ctx context.Context, req tokenstore.RedeemRequest) (tokenstore.AuthorizationCode, error) {
	req.Now = req.Now.Truncate(time.Microsecond)
	c, done, err := s.redeemFast(ctx, req)
	if done {
		return c, err
	}
	return s.redeemTx(ctx, req)
}

// redeemFast runs the one-statement redemption. done is false if the
// statement matched no row: some rule other than 5 applies, or a
// concurrent presentation won; redeemTx then decides.
func (s *Store) redeemFast(ctx context.Context, req tokenstore.RedeemRequest) (c tokenstore.AuthorizationCode, done bool, err error) {
	var row codeRow
	err = s.pool.QueryRow(ctx, s.q.redeemCode, req.Code.Hash[:], req.Code.GrantID, req.ClientID, req.Now).Scan(row.dest()...)
	switch {
	case err == nil:
		return row.code(req.Code), true, nil
	case errors.Is(err, pgx.ErrNoRows):
		return tokenstore.AuthorizationCode{}, false, nil
	}
	return tokenstore.AuthorizationCode{}, true, fmt.Errorf("pgstore: redeem code: %w", err)
}

// redeemTx applies every rule of RedeemCode in a transaction, with the
// code's row locked. Whatever fails or is canceled before the commit
// leaves nothing written.
func (s *Store) redeemTx(ctx context.Context, req tokenstore.RedeemRequest) (tokenstore.AuthorizationCode, error) {
	c, err := s.redeemLocked(ctx, req)
	if err != nil && !tokenstore.IsRecordError(err) {
		return tokenstore.AuthorizationCode{}, fmt.Errorf("pgstore: redeem code: %w", err)
	}
	return c, err
}

// redeemLocked is redeemTx without the wrapping of store errors.
func (s *Store) redeemLocked(ctx context.Context, req tokenstore.RedeemRequest) (tokenstore.AuthorizationCode, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return tokenstore.AuthorizationCode{}, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit

	var row codeRow
	err = tx.QueryRow(ctx, s.q.lockCode, req.Code.Hash[:], req.Code.GrantID).Scan(row.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return tokenstore.AuthorizationCode{}, tokenstore.ErrNotFound
	}
	if err != nil {
		return tokenstore.AuthorizationCode{}, err
	}
	c := row.code(req.Code)

	var result error
	switch {
	case !c.UsedAt.IsZero(): // rule 2
		g := c.RevokedGrant(req.Now)
		_, err = tx.Exec(ctx, s.q.revokeOrPlaceholder,
			g.ID, g.ClientID, g.Subject, g.FHIRUser, g.Scope, g.RevokedAt, g.ExpiresAt)
		result = tokenstore.ErrReused
	case c.ClientID != req.ClientID: // rule 3
		_, err = tx.Exec(ctx, s.q.useCode, c.Hash[:], req.Now)
		result = tokenstore.ErrClientMismatch
	case !req.Now.Before(c.ExpiresAt): // rule 4
		return tokenstore.AuthorizationCode{}, tokenstore.ErrExpired
	default: // rule 5, decided here if the fast path lost a race it could not see
		_, err = tx.Exec(ctx, s.q.useCode, c.Hash[:], req.Now)
		c.UsedAt = req.Now.UTC()
	}
	if err != nil {
		return tokenstore.AuthorizationCode{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return tokenstore.AuthorizationCode{}, err
	}
	if result != nil {
		return tokenstore.AuthorizationCode{}, result
	}
	return c, nil
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
