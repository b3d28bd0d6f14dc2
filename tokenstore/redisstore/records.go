package redisstore

import (
	"fmt"
	"strconv"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// A grant is a Redis hash with the fields of grantFields and the family's
// state: "first" (hex hash of its first token, see createGrantLua), "live"
// and "liveexp" (hex hash and expiry of its live token, absent if none) and
// "sup:<hex hash>" (when that token was superseded by a retry). A refresh token is a hash with the
// fields of tokenFields and, once a presentation of it was accepted, "acc"
// (when, on the server's clock) and "succ" (hex hash of its current
// successor), and "rt" if a retry created it (see rotateLua). Times are
// decimal unix microseconds, the idle timeout is decimal microseconds.
// Optional fields ("revoked" of a grant, "used" of a token) are absent when
// unset.
var (
	grantFields = []string{"client", "sub", "fhiruser", "scope", "launch", "iat", "exp", "idle", "kind", "revoked"}
	tokenFields = []string{"grant", "gen", "iat", "exp", "used"}
)

// grantArgs returns the HSET field/value arguments of g.
func grantArgs(g tokenstore.Grant) []any {
	args := []any{
		"client", g.ClientID,
		"sub", g.Subject,
		"fhiruser", g.FHIRUser,
		"scope", g.Scope,
		"launch", string(g.LaunchContext),
		"iat", formatTime(g.IssuedAt),
		"exp", formatTime(g.ExpiresAt),
		"idle", strconv.FormatInt(g.IdleTimeout.Microseconds(), 10),
		"kind", string(g.Kind),
	}
	if g.Revoked {
		args = append(args, "revoked", formatTime(g.RevokedAt))
	}
	return args
}

// tokenArgs returns the HSET field/value arguments of t.
func tokenArgs(t tokenstore.RefreshToken) []any {
	args := []any{
		"grant", t.GrantID,
		"gen", strconv.Itoa(t.Generation),
		"iat", formatTime(t.IssuedAt),
		"exp", formatTime(t.ExpiresAt),
	}
	if !t.UsedAt.IsZero() {
		args = append(args, "used", formatTime(t.UsedAt))
	}
	return args
}

// parseGrant decodes the values of grantFields (vals may omit the trailing
// "revoked"), as returned by HMGET or a script.
func parseGrant(id string, vals []any) (tokenstore.Grant, error) {
	if len(vals) < len(grantFields)-1 {
		return tokenstore.Grant{}, fmt.Errorf("redisstore: malformed grant record: %d fields", len(vals))
	}
	var (
		g   = tokenstore.Grant{ID: id}
		d   decoder
		str = d.str
	)
	g.ClientID = str(vals[0])
	g.Subject = str(vals[1])
	g.FHIRUser = str(vals[2])
	g.Scope = str(vals[3])
	if lc := str(vals[4]); lc != "" {
		g.LaunchContext = []byte(lc)
	}
	g.IssuedAt = d.time(vals[5])
	g.ExpiresAt = d.time(vals[6])
	g.IdleTimeout = time.Duration(d.int(vals[7])) * time.Microsecond
	g.Kind = tokenstore.Kind(str(vals[8]))
	if len(vals) > 9 && vals[9] != nil {
		g.Revoked = true
		g.RevokedAt = d.time(vals[9])
	}
	if d.err != nil {
		return tokenstore.Grant{}, fmt.Errorf("redisstore: malformed grant record: %w", d.err)
	}
	return g, nil
}

// parseToken decodes the values of tokenFields.
func parseToken(h tokenstore.Hash, vals []any) (tokenstore.RefreshToken, error) {
	if len(vals) != len(tokenFields) {
		return tokenstore.RefreshToken{}, fmt.Errorf("redisstore: malformed token record: %d fields", len(vals))
	}
	var d decoder
	t := tokenstore.RefreshToken{
		Hash:       h,
		GrantID:    d.str(vals[0]),
		Generation: int(d.int(vals[1])),
		IssuedAt:   d.time(vals[2]),
		ExpiresAt:  d.time(vals[3]),
	}
	if vals[4] != nil {
		t.UsedAt = d.time(vals[4])
	}
	if d.err != nil {
		return tokenstore.RefreshToken{}, fmt.Errorf("redisstore: malformed token record: %w", d.err)
	}
	return t, nil
}

// formatTime encodes t as decimal unix microseconds.
func formatTime(t time.Time) string {
	return strconv.FormatInt(t.UnixMicro(), 10)
}

// storedTime returns t as the store keeps it: in UTC, at the microsecond
// (formatTime, then decoder.time).
func storedTime(t time.Time) time.Time {
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// decoder converts reply values, remembering the first error.
type decoder struct{ err error }

func (d *decoder) str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case nil:
		if d.err == nil {
			d.err = fmt.Errorf("missing field")
		}
	default:
		if d.err == nil {
			d.err = fmt.Errorf("unexpected %T", v)
		}
	}
	return ""
}

func (d *decoder) int(v any) int64 {
	s := d.str(v)
	if d.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		d.err = fmt.Errorf("bad number: %w", err)
	}
	return n
}

func (d *decoder) time(v any) time.Time {
	return time.UnixMicro(d.int(v)).UTC()
}
