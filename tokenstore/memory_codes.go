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
	if !s.roomFor(func() int { return len(s.codes) }, s.maxCodes, c.IssuedAt) {
		return ErrCapacity
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
// RedeemRequest under the store's mutex, where it calls req.Grant. The
// grant it creates counts against MaxGrants: when the store is full,
// the redemption fails with ErrCapacity and changes nothing.
func (s *MemoryStore) RedeemCode(ctx context.Context, req RedeemRequest) (RedeemResult, error) {
	if err := req.Validate(); err != nil {
		return RedeemResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return RedeemResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.maybeSweep(req.Now)

	c, ok := s.codes[req.Code.Hash]
	if !ok || c.GrantID != req.Code.GrantID {
		return RedeemResult{}, ErrNotFound
	}
	switch err := req.Check(c); {
	case errors.Is(err, ErrReused):
		if g, ok := s.grants[c.GrantID]; ok {
			revoke(g, req.Now)
		} else {
			g := c.RevokedGrant(req.Now)
			s.grants[g.ID] = &g
		}
		return RedeemResult{}, err
	case errors.Is(err, ErrExpired):
		return RedeemResult{}, err
	case err != nil: // another client, or the wrong binding: consumed
		c.UsedAt = req.Now
		s.codes[c.Hash] = c
		return RedeemResult{}, err
	}

	res := req.Result(c, req.Grant(cloneCode(c)))
	if _, ok := s.grants[c.GrantID]; ok {
		return RedeemResult{}, ErrConflict
	}
	if !res.Token.Hash.IsZero() {
		if _, ok := s.tokens[res.Token.Hash]; ok {
			return RedeemResult{}, ErrConflict
		}
	}
	if !s.roomFor(func() int { return len(s.grants) }, s.maxGrants, req.Now) {
		return RedeemResult{}, ErrCapacity
	}
	s.codes[c.Hash] = res.Code
	g := res.Grant
	s.grants[g.ID] = &g
	if !res.Token.Hash.IsZero() {
		s.tokens[res.Token.Hash] = memoryToken{RefreshToken: res.Token}
	}
	res.Code = cloneCode(res.Code)
	res.Grant = cloneGrant(&g)
	return res, nil
}

// cloneCode returns a copy of c that shares no memory with it.
func cloneCode(c AuthorizationCode) AuthorizationCode {
	c.LaunchContext = bytes.Clone(c.LaunchContext)
	return c
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
	if !s.roomFor(func() int { return len(s.launches) }, s.maxLaunches, l.IssuedAt) {
		return ErrCapacity
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
