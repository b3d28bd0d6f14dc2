package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// ClientID is the client the grants made by NewGrant belong to.
const ClientID = "storetest-client"

// GrantLifetime is the absolute lifetime of the grants made by NewGrant.
const GrantLifetime = 24 * time.Hour

// NewGrant returns a new, valid, unrevoked offline grant for ClientID with
// a random ID and every other field set: issued at now, expiring
// GrantLifetime later, without idle timeout, with a JSON launch context.
// Tests adjust the fields they care about before storing it.
func NewGrant(now time.Time) tokenstore.Grant {
	return tokenstore.Grant{
		ID:            tokenstore.NewID(),
		ClientID:      ClientID,
		Subject:       "user-7f3a",
		FHIRUser:      "https://fhir.example.org/r4/Practitioner/p-1",
		Scope:         "openid fhirUser offline_access launch/patient patient/*.rs",
		LaunchContext: []byte(`{"patient":"p-123","encounter":"e-456","need_patient_banner":true}`),
		IssuedAt:      now,
		ExpiresAt:     now.Add(GrantLifetime),
		Kind:          tokenstore.KindOffline,
	}
}

// NewHash returns the Hash of a new random refresh token.
func NewHash() tokenstore.Hash {
	_, h := tokenstore.NewToken()
	return h
}

// FirstToken returns the record of a new first (generation 1) refresh token
// of g: a random hash, issued at g.IssuedAt, expiring at
// g.NextExpiry(g.IssuedAt), GrantID g.ID.
func FirstToken(g tokenstore.Grant) tokenstore.RefreshToken {
	return tokenstore.RefreshToken{
		Hash:       NewHash(),
		GrantID:    g.ID,
		Generation: 1,
		IssuedAt:   g.IssuedAt,
		ExpiresAt:  g.NextExpiry(g.IssuedAt),
	}
}

// CreateFamily stores g with FirstToken(g) in s and returns that first
// token's record. It fails the test if CreateGrant fails.
func CreateFamily(t testing.TB, s tokenstore.Store, g tokenstore.Grant) tokenstore.RefreshToken {
	t.Helper()
	first := FirstToken(g)
	require.NoError(t, s.CreateGrant(t.Context(), g, first), "CreateGrant")
	return first
}

// RequireRotate presents the token with hash presented on behalf of
// ClientID at now, without grace period, and returns the result. It fails
// the test unless Rotate succeeds.
func RequireRotate(t testing.TB, s tokenstore.Store, presented tokenstore.Hash, now time.Time) tokenstore.RotateResult {
	t.Helper()
	res, err := s.Rotate(t.Context(), tokenstore.RotateRequest{
		Presented: presented,
		Next:      NewHash(),
		ClientID:  ClientID,
		Now:       now,
	})
	require.NoError(t, err, "Rotate")
	return res
}
