package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// Precision is the time precision a store must keep. Every time and
// duration the suite passes is a multiple of it, and times read back must be
// equal to the ones written at this precision.
const Precision = time.Millisecond

// sameTime asserts that got is want at Precision (zero must stay zero),
// whatever the location of either.
func sameTime(t testing.TB, want, got time.Time, field string) bool {
	t.Helper()
	if want.IsZero() {
		return assert.Truef(t, got.IsZero(), "%s: want the zero time, got %s", field, got.UTC())
	}
	return assert.Truef(t, want.Truncate(Precision).Equal(got.Truncate(Precision)),
		"%s: want %s, got %s", field, want.UTC(), got.UTC())
}

// sameGrant asserts that got has every field of want. A nil and an empty
// LaunchContext are the same.
func sameGrant(t testing.TB, want, got tokenstore.Grant) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID, "Grant.ID")
	assert.Equal(t, want.ClientID, got.ClientID, "Grant.ClientID")
	assert.Equal(t, want.Subject, got.Subject, "Grant.Subject")
	assert.Equal(t, want.FHIRUser, got.FHIRUser, "Grant.FHIRUser")
	assert.Equal(t, want.Scope, got.Scope, "Grant.Scope")
	assert.Truef(t, bytes.Equal(want.LaunchContext, got.LaunchContext),
		"Grant.LaunchContext: want %q, got %q", want.LaunchContext, got.LaunchContext)
	sameTime(t, want.IssuedAt, got.IssuedAt, "Grant.IssuedAt")
	sameTime(t, want.ExpiresAt, got.ExpiresAt, "Grant.ExpiresAt")
	assert.Equal(t, want.IdleTimeout, got.IdleTimeout, "Grant.IdleTimeout")
	assert.Equal(t, want.Kind, got.Kind, "Grant.Kind")
	assert.Equal(t, want.Revoked, got.Revoked, "Grant.Revoked")
	sameTime(t, want.RevokedAt, got.RevokedAt, "Grant.RevokedAt")
}

// sameToken asserts that got has every field of want.
func sameToken(t testing.TB, want, got tokenstore.RefreshToken) {
	t.Helper()
	assert.Equal(t, want.Hash, got.Hash, "RefreshToken.Hash")
	assert.Equal(t, want.GrantID, got.GrantID, "RefreshToken.GrantID")
	assert.Equal(t, want.Generation, got.Generation, "RefreshToken.Generation")
	sameTime(t, want.IssuedAt, got.IssuedAt, "RefreshToken.IssuedAt")
	sameTime(t, want.ExpiresAt, got.ExpiresAt, "RefreshToken.ExpiresAt")
	sameTime(t, want.UsedAt, got.UsedAt, "RefreshToken.UsedAt")
}

// requireRecordError requires err to be the record error want: matched by
// errors.Is and recognised by tokenstore.IsRecordError.
func requireRecordError(t testing.TB, want, err error, msgAndArgs ...any) {
	t.Helper()
	require.ErrorIs(t, err, want, msgAndArgs...)
	require.True(t, tokenstore.IsRecordError(err), "IsRecordError(%v)", err)
}

// requireNotFound requires the token ref names to be unknown to s.
func requireNotFound(t testing.TB, s tokenstore.Store, ref tokenstore.TokenRef, msg string) {
	t.Helper()
	_, _, err := s.LookupToken(t.Context(), ref)
	requireRecordError(t, tokenstore.ErrNotFound, err, msg)
}

// lookup returns the records of the token ref names, failing the test if
// LookupToken fails.
func lookup(t testing.TB, s tokenstore.Store, ref tokenstore.TokenRef) (tokenstore.Grant, tokenstore.RefreshToken) {
	t.Helper()
	g, tok, err := s.LookupToken(t.Context(), ref)
	require.NoError(t, err, "LookupToken")
	return g, tok
}

// grant returns the grant with ID id, failing the test if Grant fails.
func grant(t testing.TB, s tokenstore.Store, id string) tokenstore.Grant {
	t.Helper()
	g, err := s.Grant(t.Context(), id)
	require.NoError(t, err, "Grant")
	return g
}

// oneOf reports whether err matches one of targets.
func oneOf(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
