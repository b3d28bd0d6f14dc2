package tokenstore

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"
)

// DefaultSweepInterval is the SweepInterval a MemoryStore uses when
// MemoryOptions.SweepInterval is zero.
const DefaultSweepInterval = time.Minute

// ErrCapacity is returned by a MemoryStore that has reached one of the
// limits of its MemoryOptions. It is a failure of the store, not a fact about
// the records: IsRecordError reports false for it, and callers answer it
// with server_error.
var ErrCapacity = errors.New("tokenstore: memory store is full")

// MemoryOptions configures a MemoryStore. The zero value is ready to use.
type MemoryOptions struct {
	// SweepInterval is how often, at most, a write also removes expired
	// records (as Sweep does), judged by the time the write carries:
	// RotateRequest.Now, RedeemRequest.Now, the now of RevokeGrant,
	// UseOnce and ConsumeLaunch, or the IssuedAt of the grant, code or
	// launch passed to CreateGrant, CreateCode or CreateLaunch. The sweep runs after the
	// write, in the same critical section, so a write always sees the
	// records as they were and answers ErrExpired rather than ErrNotFound
	// for a record that has just expired. Zero means DefaultSweepInterval;
	// a negative value disables automatic sweeping (call Sweep yourself).
	SweepInterval time.Duration

	// MaxGrants caps the number of grants held. When it is reached,
	// CreateGrant first removes expired records and, if the store is still
	// full, fails with ErrCapacity. Zero means no limit: the number of
	// grants is then bounded only by their ExpiresAt.
	MaxGrants int

	// MaxOneTimeKeys caps the number of UseOnce records held, the same
	// way: when it is reached, UseOnce removes expired records and, if
	// the store is still full, fails with ErrCapacity. Zero means no
	// limit: records are then bounded only by their expiry (client
	// assertions live a few minutes).
	MaxOneTimeKeys int

	// MaxCodes caps the number of authorization-code records held, the
	// same way, in CreateCode. Zero means no limit: records are then
	// bounded by their expiry (ExpiresAt + tokenstore.CodeRetention).
	MaxCodes int

	// MaxLaunches caps the number of launch records held, the same way,
	// in CreateLaunch. Zero means no limit: records are then bounded by
	// their expiry.
	MaxLaunches int

	// Clock is the store's own clock: Rotate reads it when it accepts the
	// first presentation of a token and when the token is presented again,
	// and the difference decides whether that second presentation falls
	// within RotateRequest.RetryWindow. It is never used for expiry, which
	// the times of the requests decide. It should be monotonic (time.Now
	// is: its readings carry a monotonic clock reading). Nil means
	// time.Now.
	Clock func() time.Time
}

// MemoryStore is a Store held in the memory of one process: the default for
// a single server instance and for tests. Its records do not survive a
// restart and are not shared between processes; use redisstore or pgstore
// for that.
//
// Every method takes one mutex, and every operation, Rotate included, is
// O(1) apart from the sweeps. There is no background goroutine: expired
// records are removed by Sweep, and by writes once per
// MemoryOptions.SweepInterval (a sweep is O(records)). Every record has an
// expiry, so the store does not grow without bound:
//
//   - a grant and all its refresh-token records are removed once the
//     grant's ExpiresAt has passed; until then a revoked grant is kept so
//     that its tokens keep failing with ErrRevoked;
//   - a refresh-token record is removed once its own ExpiresAt has passed
//     (Rotate would answer ErrExpired before looking at UsedAt, so this
//     never hides a reuse); used and superseded records are otherwise
//     kept, so that reuse is detected for as long as it matters;
//   - a UseOnce record is removed once its expiry has passed;
//   - an authorization-code record is removed once its ExpiresAt +
//     CodeRetention has passed, used or not; a launch once its ExpiresAt
//     has passed, and as soon as it is consumed.
//
// The grant RedeemCode creates counts against MaxGrants. The revoked
// placeholder grant it stores when a code consumed by a refused
// presentation is presented again (AuthorizationCode.RevokedGrant) is a
// grant like the others, but does not count against MaxGrants.
//
// The order of presentations is the order in which Rotate takes the mutex;
// the retry window is measured on MemoryOptions.Clock.
//
// Records are copied in and out: callers never share memory with the store.
// A MemoryStore must be created with NewMemoryStore.
type MemoryStore struct {
	sweepInterval  time.Duration
	maxGrants      int
	maxOneTimeKeys int
	maxCodes       int
	maxLaunches    int
	clock          func() time.Time

	mu         sync.Mutex
	grants     map[string]*Grant
	tokens     map[Hash]memoryToken
	once       map[string]time.Time // key -> expiresAt
	codes      map[Hash]AuthorizationCode
	codeGrants map[string]Hash // GrantID -> hash of its code
	launches   map[Hash]Launch
	lastSweep  time.Time
}

// memoryToken is what a MemoryStore keeps of a refresh token: its record
// and, once a presentation of it has been accepted, what rule 5 of Rotate
// needs to tell a retry from reuse.
type memoryToken struct {
	RefreshToken
	// acceptedAt is the reading of the store's clock when its first
	// presentation was accepted (rule 6); zero if it never was (unused, or
	// superseded).
	acceptedAt time.Time
	// successor is the token made by the latest accepted presentation
	// (rule 6 or a retry); meaningful only if acceptedAt is set.
	successor Hash
}

var (
	_ Store     = (*MemoryStore)(nil)
	_ CodeStore = (*MemoryStore)(nil)
	_ Sweeper   = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore configured by opts.
func NewMemoryStore(opts MemoryOptions) *MemoryStore {
	interval := opts.SweepInterval
	if interval == 0 {
		interval = DefaultSweepInterval
	}
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	return &MemoryStore{
		sweepInterval:  interval,
		maxGrants:      opts.MaxGrants,
		maxOneTimeKeys: opts.MaxOneTimeKeys,
		maxCodes:       opts.MaxCodes,
		maxLaunches:    opts.MaxLaunches,
		clock:          clock,
		grants:         make(map[string]*Grant),
		tokens:         make(map[Hash]memoryToken),
		once:           make(map[string]time.Time),
		codes:          make(map[Hash]AuthorizationCode),
		codeGrants:     make(map[string]Hash),
		launches:       make(map[Hash]Launch),
	}
}

// CreateGrant implements Store. g.ID must not be empty, and first.GrantID
// must be empty or g.ID; a zero first.Generation is stored as 1. Violations
// are reported as plain errors (programming errors, not record errors).
func (s *MemoryStore) CreateGrant(ctx context.Context, g Grant, first RefreshToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if g.ID == "" {
		return errors.New("tokenstore: CreateGrant: empty grant ID")
	}
	switch first.GrantID {
	case "":
		first.GrantID = g.ID
	case g.ID:
	default:
		return errors.New("tokenstore: CreateGrant: first token belongs to another grant")
	}
	if first.Generation == 0 {
		first.Generation = 1
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if !g.IssuedAt.IsZero() {
		defer s.maybeSweep(g.IssuedAt)
	}

	if _, ok := s.grants[g.ID]; ok {
		return ErrConflict
	}
	if _, ok := s.tokens[first.Hash]; ok {
		return ErrConflict
	}
	if !s.roomFor(func() int { return len(s.grants) }, s.maxGrants, g.IssuedAt) {
		return ErrCapacity
	}
	g.LaunchContext = bytes.Clone(g.LaunchContext)
	s.grants[g.ID] = &g
	s.tokens[first.Hash] = memoryToken{RefreshToken: first}
	return nil
}

// Rotate implements Store, applying the rules documented on RotateRequest
// under the store's mutex. It ignores Presented.GrantID: the hash alone
// finds the token.
func (s *MemoryStore) Rotate(ctx context.Context, req RotateRequest) (RotateResult, error) {
	if err := ctx.Err(); err != nil {
		return RotateResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.maybeSweep(req.Now)

	tok, ok := s.tokens[req.Presented.Hash]
	if !ok {
		return RotateResult{}, ErrNotFound
	}
	g, ok := s.grants[tok.GrantID]
	if !ok {
		return RotateResult{}, ErrNotFound
	}
	used := !tok.UsedAt.IsZero()
	if g.ClientID != req.ClientID {
		if used {
			revoke(g, req.Now)
			return RotateResult{}, ErrReused
		}
		return RotateResult{}, ErrClientMismatch
	}
	if g.Revoked {
		return RotateResult{}, ErrRevoked
	}
	if !req.Now.Before(g.ExpiresAt) || !req.Now.Before(tok.ExpiresAt) {
		return RotateResult{}, ErrExpired
	}
	if used && !s.isRetry(tok, req) {
		revoke(g, req.Now)
		return RotateResult{}, ErrReused
	}
	if _, ok := s.tokens[req.Next]; ok {
		return RotateResult{}, ErrConflict
	}

	if used { // a retry: the previous successor dies
		prev := s.tokens[tok.successor]
		prev.UsedAt = req.Now
		s.tokens[tok.successor] = prev
	} else {
		tok.UsedAt = req.Now
		tok.acceptedAt = s.clock()
	}
	tok.successor = req.Next
	s.tokens[req.Presented.Hash] = tok
	next := RefreshToken{
		Hash:       req.Next,
		GrantID:    g.ID,
		Generation: tok.Generation + 1,
		IssuedAt:   req.Now,
		ExpiresAt:  g.NextExpiry(req.Now),
	}
	s.tokens[req.Next] = memoryToken{RefreshToken: next}
	return RotateResult{Grant: cloneGrant(g), Token: next, Retry: used}, nil
}

// isRetry reports whether presenting tok, already used, again is a retry
// (rule 5 of Rotate): a presentation of it was accepted less than
// req.RetryWindow ago on the store's clock, and the successor that
// presentation made is still alive at req.Now. A clock read earlier than
// the acceptance (possible only with a MemoryOptions.Clock that is not
// monotonic) counts as within the window if it is less than the window
// earlier. s.mu must be held.
func (s *MemoryStore) isRetry(tok memoryToken, req RotateRequest) bool {
	if req.RetryWindow <= 0 || tok.acceptedAt.IsZero() {
		return false
	}
	if d := s.clock().Sub(tok.acceptedAt); d >= req.RetryWindow || d <= -req.RetryWindow {
		return false
	}
	succ, ok := s.tokens[tok.successor]
	return ok && succ.UsedAt.IsZero() && req.Now.Before(succ.ExpiresAt)
}

// revoke marks g revoked at now, unless it already is. s.mu must be held.
func revoke(g *Grant, now time.Time) {
	if !g.Revoked {
		g.Revoked, g.RevokedAt = true, now
	}
}

// LookupToken implements Store. It ignores ref.GrantID: the hash alone
// finds the token.
func (s *MemoryStore) LookupToken(ctx context.Context, ref TokenRef) (Grant, RefreshToken, error) {
	if err := ctx.Err(); err != nil {
		return Grant{}, RefreshToken{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	tok, ok := s.tokens[ref.Hash]
	if !ok {
		return Grant{}, RefreshToken{}, ErrNotFound
	}
	g, ok := s.grants[tok.GrantID]
	if !ok {
		return Grant{}, RefreshToken{}, ErrNotFound
	}
	return cloneGrant(g), tok.RefreshToken, nil
}

// Grant implements Store.
func (s *MemoryStore) Grant(ctx context.Context, grantID string) (Grant, error) {
	if err := ctx.Err(); err != nil {
		return Grant{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	g, ok := s.grants[grantID]
	if !ok {
		return Grant{}, ErrNotFound
	}
	return cloneGrant(g), nil
}

// RevokeGrant implements Store. Revoking a revoked grant keeps its first
// RevokedAt.
func (s *MemoryStore) RevokeGrant(ctx context.Context, grantID string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.maybeSweep(now)

	g, ok := s.grants[grantID]
	if !ok {
		return ErrNotFound
	}
	revoke(g, now)
	return nil
}

// UseOnce implements Store. A key whose expiresAt is not after now is
// accepted and not recorded: it has already expired.
func (s *MemoryStore) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.maybeSweep(now)

	if exp, ok := s.once[key]; ok && now.Before(exp) {
		return ErrReplayed
	}
	if !now.Before(expiresAt) {
		delete(s.once, key)
		return nil
	}
	if _, ok := s.once[key]; !ok && !s.roomFor(func() int { return len(s.once) }, s.maxOneTimeKeys, now) {
		return ErrCapacity
	}
	s.once[key] = expiresAt
	return nil
}

// Sweep implements Sweeper: it removes the grants whose ExpiresAt is not
// after now together with all their refresh-token records, the
// refresh-token records whose own ExpiresAt is not after now, the
// expired UseOnce records, the authorization codes whose ExpiresAt +
// CodeRetention is not after now and the launches whose ExpiresAt is not
// after now. It returns the number of records removed.
func (s *MemoryStore) Sweep(ctx context.Context, now time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sweep(now), nil
}

// roomFor reports whether a table of at most limit records (0: no
// limit), of which size reports the current count, has room for one
// more: if it is full, the records expired at now are swept first (not if
// now is zero). s.mu must be held.
func (s *MemoryStore) roomFor(size func() int, limit int, now time.Time) bool {
	if limit <= 0 || size() < limit {
		return true
	}
	if !now.IsZero() {
		s.sweep(now)
	}
	return size() < limit
}

// maybeSweep sweeps at now if SweepInterval has passed since the last sweep
// (in either direction, so that a clock set back does not stop sweeping).
// s.mu must be held.
func (s *MemoryStore) maybeSweep(now time.Time) {
	if s.sweepInterval < 0 {
		return
	}
	if d := now.Sub(s.lastSweep); d < s.sweepInterval && d > -s.sweepInterval {
		return
	}
	s.sweep(now)
}

// sweep removes the records expired at now and returns how many it removed.
// s.mu must be held.
func (s *MemoryStore) sweep(now time.Time) int64 {
	s.lastSweep = now
	var n int64
	for h, tok := range s.tokens {
		g, ok := s.grants[tok.GrantID]
		if !ok || !now.Before(g.ExpiresAt) || !now.Before(tok.ExpiresAt) {
			delete(s.tokens, h)
			n++
		}
	}
	for id, g := range s.grants {
		if !now.Before(g.ExpiresAt) {
			delete(s.grants, id)
			n++
		}
	}
	for key, exp := range s.once {
		if !now.Before(exp) {
			delete(s.once, key)
			n++
		}
	}
	for h, c := range s.codes {
		if !now.Before(c.ExpiresAt.Add(CodeRetention)) {
			delete(s.codes, h)
			delete(s.codeGrants, c.GrantID)
			n++
		}
	}
	for h, l := range s.launches {
		if !now.Before(l.ExpiresAt) {
			delete(s.launches, h)
			n++
		}
	}
	return n
}

// cloneGrant returns a copy of *g that shares no memory with it.
func cloneGrant(g *Grant) Grant {
	c := *g
	c.LaunchContext = bytes.Clone(g.LaunchContext)
	return c
}
