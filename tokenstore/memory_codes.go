package tokenstore

import (
	"bytes"
	"context"
	"errors"
	"time"
)

// CreateCode implements CodeStore. c.GrantID must not be empty and
// c.UsedAt must be zero; violations are reported as plain errors.
func (s *MemoryStore) CreateCode(ctx context.Context, c AuthorizationCode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNewCode(c); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.IssuedAt.IsZero() {
		defer s.maybeSweep(c.IssuedAt)
	}

	if _, ok := s.codes[c.Hash]; ok {
		return ErrConflict
	}
	if _, ok := s.codeGrants[c.GrantID]; ok {
		return ErrConflict
	}
	if _, ok := s.grants[c.GrantID]; ok {
		return ErrConflict
	}
	if s.maxCodes > 0 && len(s.codes) >= s.maxCodes {
		if !c.IssuedAt.IsZero() {
			s.sweep(c.IssuedAt)
		}
		if len(s.codes) >= s.maxCodes {
			return ErrCapacity
		}
	}
	c.LaunchContext = bytes.Clone(c.LaunchContext)
	s.codes[c.Hash] = c
	s.codeGrants[c.GrantID] = c.Hash
	return nil
}

// checkNewCode reports the programming errors CreateCode refuses.
func checkNewCode(c AuthorizationCode) error {
	switch {
	case c.GrantID == "":
		return errors.New("tokenstore: CreateCode: empty grant ID")
	case !c.UsedAt.IsZero():
		return errors.New("tokenstore: CreateCode: the code is already used")
	}
	return nil
}

// RedeemCode implements CodeStore, applying the rules documented on
// RedeemRequest under the store's mutex.
func (s *MemoryStore) RedeemCode(ctx context.Context, req RedeemRequest) (AuthorizationCode, error) {
	if err := ctx.Err(); err != nil {
		return AuthorizationCode{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.maybeSweep(req.Now)

	c, ok := s.codes[req.Code.Hash]
	switch {
	case !ok || c.GrantID != req.Code.GrantID:
		return AuthorizationCode{}, ErrNotFound
	case !c.UsedAt.IsZero():
		if g, ok := s.grants[c.GrantID]; ok {
			revoke(g, req.Now)
		} else {
			g := c.RevokedGrant(req.Now)
			s.grants[g.ID] = &g
		}
		return AuthorizationCode{}, ErrReused
	case c.ClientID != req.ClientID:
		c.UsedAt = req.Now
		s.codes[c.Hash] = c
		return AuthorizationCode{}, ErrClientMismatch
	case !req.Now.Before(c.ExpiresAt):
		return AuthorizationCode{}, ErrExpired
	}
	c.UsedAt = req.Now
	s.codes[c.Hash] = c
	c.LaunchContext = bytes.Clone(c.LaunchContext)
	return c, nil
}

// CreateLaunch implements CodeStore.
func (s *MemoryStore) CreateLaunch(ctx context.Context, l Launch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !l.IssuedAt.IsZero() {
		defer s.maybeSweep(l.IssuedAt)
	}

	if _, ok := s.launches[l.Hash]; ok {
		return ErrConflict
	}
	if s.maxLaunches > 0 && len(s.launches) >= s.maxLaunches {
		if !l.IssuedAt.IsZero() {
			s.sweep(l.IssuedAt)
		}
		if len(s.launches) >= s.maxLaunches {
			return ErrCapacity
		}
	}
	l.LaunchContext = bytes.Clone(l.LaunchContext)
	s.launches[l.Hash] = l
	return nil
}

// ConsumeLaunch implements CodeStore: it removes the launch and returns
// it, or ErrExpired if it had expired at now.
func (s *MemoryStore) ConsumeLaunch(ctx context.Context, ref TokenRef, now time.Time) (Launch, error) {
	if err := ctx.Err(); err != nil {
		return Launch{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.maybeSweep(now)

	l, ok := s.launches[ref.Hash]
	if !ok {
		return Launch{}, ErrNotFound
	}
	delete(s.launches, ref.Hash)
	if !now.Before(l.ExpiresAt) {
		return Launch{}, ErrExpired
	}
	return l, nil
}
