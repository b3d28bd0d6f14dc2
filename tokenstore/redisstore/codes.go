package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

var _ tokenstore.CodeStore = (*Store)(nil)

// An authorization code is a Redis hash in its family's slot with the
// fields of codeFields, "hash" (hex hash of the code value), "cn" (nonce
// of the creating call) and, once used, "rn" (nonce of the call that used
// it). A launch is a hash with the fields of launchFields, "cn" and, once
// consumed, "used" (nonce of the consuming call). Times are decimal unix
// microseconds; optional fields ("authtime", "used" of a code) are absent
// when unset.
var (
	codeFields   = []string{"client", "redirect", "challenge", "scope", "sub", "fhiruser", "launch", "nonce", "authtime", "iat", "exp", "used"}
	launchFields = []string{"client", "launch", "iat", "exp"}
)

// CreateCode implements tokenstore.CodeStore in one script run. The code
// is kept in the slot of the family c.GrantID names, under the key
// <prefix>{<family tag>}:c: one code per family, so a second code for the
// same grant ID is ErrConflict, and so is a code for a grant that exists.
// Two codes of different families with the same Hash are not detected
// (the value names its family: that takes a SHA-256 collision). The key
// lives until c.ExpiresAt + tokenstore.CodeRetention, computed from
// c.IssuedAt (or, if zero, the current time) as the caller's "now", and
// at least MinTTL.
func (s *Store) CreateCode(ctx context.Context, c tokenstore.AuthorizationCode) error {
	switch {
	case c.GrantID == "":
		return errors.New("redisstore: CreateCode: empty grant ID")
	case !c.UsedAt.IsZero():
		return errors.New("redisstore: CreateCode: the code is already used")
	}
	now := c.IssuedAt
	if now.IsZero() {
		now = time.Now()
	}
	nonce := newNonce()
	args := []any{
		ttlMillis(c.ExpiresAt.Add(tokenstore.CodeRetention), now), nonce,
		"hash", c.Hash.String(),
		"client", c.ClientID,
		"redirect", c.RedirectURI,
		"challenge", c.CodeChallenge,
		"scope", c.Scope,
		"sub", c.Subject,
		"fhiruser", c.FHIRUser,
		"launch", string(c.LaunchContext),
		"nonce", c.Nonce,
		"iat", formatTime(c.IssuedAt),
		"exp", formatTime(c.ExpiresAt),
		"cn", nonce,
	}
	if !c.AuthTime.IsZero() {
		args = append(args, "authtime", formatTime(c.AuthTime))
	}
	status, err := s.scripts.createCode.Run(ctx, s.client,
		[]string{s.keys.code(c.GrantID), s.keys.grant(c.GrantID)}, args...).Text()
	if err != nil {
		return fmt.Errorf("redisstore: create code: %w", err)
	}
	return statusErr(status)
}

// RedeemCode implements tokenstore.CodeStore in two round trips: it
// reads the code (HMGET) and calls req.Grant with it, then one script run
// applies the rules and, for a redemption, writes the code used, the
// grant and its first refresh token. The code, the grant it creates and
// that token are all in the family's slot (the code names its grant, and
// the token's value must name it too: tokenstore.GrantTemplate), and the
// order of presentations is the order in which the scripts run on its
// primary. A code read as unknown, or as unused and expired, is answered
// without the script (no presentation can change that). A TokenRef without
// GrantID is ErrNotFound without a round trip: every code value names its
// grant.
//
// If the reply to the script is lost and go-redis sends it again, the
// second run recognises the call (its nonce) and answers as the first did,
// rather than as reuse.
func (s *Store) RedeemCode(ctx context.Context, req tokenstore.RedeemRequest) (tokenstore.RedeemResult, error) {
	if err := req.Validate(); err != nil {
		return tokenstore.RedeemResult{}, err
	}
	grantID := req.Code.GrantID
	if grantID == "" {
		return tokenstore.RedeemResult{}, tokenstore.ErrNotFound
	}
	req.Now = storedTime(req.Now)
	codeKey := s.keys.code(grantID)
	vals, err := s.client.HMGet(ctx, codeKey, append([]string{"hash"}, codeFields...)...).Result()
	if err != nil {
		return tokenstore.RedeemResult{}, fmt.Errorf("redisstore: redeem code: %w", err)
	}
	if len(vals) == 0 || vals[0] != req.Code.Hash.String() {
		return tokenstore.RedeemResult{}, tokenstore.ErrNotFound
	}
	read, err := parseCode(req.Code.Hash, grantID, vals[1:])
	if err != nil {
		return tokenstore.RedeemResult{}, err
	}

	keys := []string{codeKey, s.keys.grant(grantID)}
	args := []any{
		req.Code.Hash.String(), req.ClientID, formatTime(req.Now), newNonce(),
		strconv.FormatInt(tokenstore.CodeRetention.Microseconds(), 10), MinTTL.Milliseconds(),
		req.CodeChallenge, req.RedirectURI, grantID,
	}
	var t tokenstore.GrantTemplate
	switch err := req.Check(read); {
	case errors.Is(err, tokenstore.ErrExpired):
		return tokenstore.RedeemResult{}, err
	case err == nil:
		t = req.Grant(read)
		t.ExpiresAt = storedTime(t.ExpiresAt)
		t.IdleTimeout = t.IdleTimeout.Truncate(time.Microsecond)
		planned := req.Result(read, t)
		token := ""
		if !t.RefreshToken.IsZero() {
			token = t.RefreshToken.String()
			keys = append(keys, s.keys.token(grantID, t.RefreshToken))
		}
		args = append(args, "1",
			formatTime(t.ExpiresAt), strconv.FormatInt(t.IdleTimeout.Microseconds(), 10), string(t.Kind),
			ttlMillis(t.ExpiresAt, req.Now),
			token, formatTime(planned.Token.ExpiresAt), ttlMillis(planned.Token.ExpiresAt, req.Now))
	default: // the script finds the same (or reuse): no grant to create
		args = append(args, "0", "", "", "", "", "", "", "")
	}
	for _, u := range req.ClientRedirectURIs {
		args = append(args, u)
	}

	res, err := s.scripts.redeemCode.Run(ctx, s.client, keys, args...).Slice()
	if err != nil {
		return tokenstore.RedeemResult{}, fmt.Errorf("redisstore: redeem code: %w", err)
	}
	if len(res) == 0 {
		return tokenstore.RedeemResult{}, errors.New("redisstore: redeem code: empty reply")
	}
	switch status, _ := res[0].(string); status {
	case "ok":
	case "stale":
		return tokenstore.RedeemResult{}, errors.New("redisstore: redeem code: the code changed between its read and its redemption")
	default:
		return tokenstore.RedeemResult{}, statusErr(status)
	}
	c, err := parseCode(req.Code.Hash, grantID, res[1:])
	if err != nil {
		return tokenstore.RedeemResult{}, err
	}
	return req.Result(c, t), nil
}

// parseCode decodes the values of codeFields.
func parseCode(h tokenstore.Hash, grantID string, vals []any) (tokenstore.AuthorizationCode, error) {
	if len(vals) != len(codeFields) {
		return tokenstore.AuthorizationCode{}, fmt.Errorf("redisstore: malformed code record: %d fields", len(vals))
	}
	var d decoder
	c := tokenstore.AuthorizationCode{
		Hash:          h,
		GrantID:       grantID,
		ClientID:      d.str(vals[0]),
		RedirectURI:   d.str(vals[1]),
		CodeChallenge: d.str(vals[2]),
		Scope:         d.str(vals[3]),
		Subject:       d.str(vals[4]),
		FHIRUser:      d.str(vals[5]),
		Nonce:         d.str(vals[7]),
		IssuedAt:      d.time(vals[9]),
		ExpiresAt:     d.time(vals[10]),
	}
	if lc := d.str(vals[6]); lc != "" {
		c.LaunchContext = []byte(lc)
	}
	if vals[8] != nil {
		c.AuthTime = d.time(vals[8])
	}
	if vals[11] != nil {
		c.UsedAt = d.time(vals[11])
	}
	if d.err != nil {
		return tokenstore.AuthorizationCode{}, fmt.Errorf("redisstore: malformed code record: %w", d.err)
	}
	return c, nil
}

// CreateLaunch implements tokenstore.CodeStore in one script run. The
// launch has a slot of its own (<prefix>l:{<hex hash>}); its key lives
// until l.ExpiresAt, computed from l.IssuedAt (or, if zero, the current
// time), and at least MinTTL.
func (s *Store) CreateLaunch(ctx context.Context, l tokenstore.Launch) error {
	now := l.IssuedAt
	if now.IsZero() {
		now = time.Now()
	}
	nonce := newNonce()
	status, err := s.scripts.createLaunch.Run(ctx, s.client, []string{s.keys.launch(l.Hash)},
		ttlMillis(l.ExpiresAt, now), nonce,
		"client", l.ClientID,
		"launch", string(l.LaunchContext),
		"iat", formatTime(l.IssuedAt),
		"exp", formatTime(l.ExpiresAt),
		"cn", nonce,
	).Text()
	if err != nil {
		return fmt.Errorf("redisstore: create launch: %w", err)
	}
	return statusErr(status)
}

// ConsumeLaunch implements tokenstore.CodeStore in one script run. The
// consumed launch's key is marked used and left to expire by its TTL; a
// resend of the consuming call by go-redis recognises it (its nonce) and
// gets the launch again, every other call tokenstore.ErrNotFound.
func (s *Store) ConsumeLaunch(ctx context.Context, ref tokenstore.TokenRef, now time.Time) (tokenstore.Launch, error) {
	res, err := s.scripts.consumeLaunch.Run(ctx, s.client, []string{s.keys.launch(ref.Hash)},
		formatTime(now), newNonce()).Slice()
	if err != nil {
		return tokenstore.Launch{}, fmt.Errorf("redisstore: consume launch: %w", err)
	}
	if len(res) == 0 {
		return tokenstore.Launch{}, errors.New("redisstore: consume launch: empty reply")
	}
	if status, _ := res[0].(string); status != "ok" {
		return tokenstore.Launch{}, statusErr(status)
	}
	if len(res) != 1+len(launchFields) {
		return tokenstore.Launch{}, fmt.Errorf("redisstore: consume launch: malformed reply: %d values", len(res))
	}
	var d decoder
	l := tokenstore.Launch{
		Hash:      ref.Hash,
		ClientID:  d.str(res[1]),
		IssuedAt:  d.time(res[3]),
		ExpiresAt: d.time(res[4]),
	}
	if lc := d.str(res[2]); lc != "" {
		l.LaunchContext = []byte(lc)
	}
	if d.err != nil {
		return tokenstore.Launch{}, fmt.Errorf("redisstore: malformed launch record: %w", d.err)
	}
	return l, nil
}
