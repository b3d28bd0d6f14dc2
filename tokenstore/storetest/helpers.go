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

// NewHash returns the Hash of a new random refresh-token value. The suite
// uses it for the Next of RotateRequest: a store never sees the value, and
// finds the token it creates by the family the presenter names
// (Ref of the RotateResult's Token).
func NewHash() tokenstore.Hash {
	_, h := tokenstore.NewToken()
	return h
}

// Ref returns the TokenRef a presenter of tok sends: its Hash and its
// GrantID, as ParseRefreshToken returns them for a value made by
// tokenstore.NewRefreshToken(tok.GrantID). Every token of the suite names
// its family, except the first tokens made by UnnamedFirstToken.
func Ref(tok tokenstore.RefreshToken) tokenstore.TokenRef {
	return tokenstore.TokenRef{Hash: tok.Hash, GrantID: tok.GrantID}
}

// FirstToken returns the record of a new first (generation 1) refresh token
// of g, whose value names g (tokenstore.NewRefreshToken(g.ID)): present it
// with Ref. It is issued at g.IssuedAt and expires at
// g.NextExpiry(g.IssuedAt).
func FirstToken(g tokenstore.Grant) tokenstore.RefreshToken {
	_, ref := tokenstore.NewRefreshToken(g.ID)
	return tokenstore.RefreshToken{
		Hash:       ref.Hash,
		GrantID:    g.ID,
		Generation: 1,
		IssuedAt:   g.IssuedAt,
		ExpiresAt:  g.NextExpiry(g.IssuedAt),
	}
}

// UnnamedFirstToken is FirstToken for a value that names no grant (one the
// host chose, or made with tokenstore.NewToken): present it with
// tokenstore.TokenRef{Hash: tok.Hash}, without GrantID. Stores must find
// it all the same.
func UnnamedFirstToken(g tokenstore.Grant) tokenstore.RefreshToken {
	tok := FirstToken(g)
	tok.Hash = NewHash()
	return tok
}

// CreateFamily stores g with FirstToken(g) in s and returns that first
// token's record. It fails the test if CreateGrant fails.
func CreateFamily(t testing.TB, s tokenstore.Store, g tokenstore.Grant) tokenstore.RefreshToken {
	t.Helper()
	first := FirstToken(g)
	require.NoError(t, s.CreateGrant(t.Context(), g, first), "CreateGrant")
	return first
}

// RequireRotate presents the token presented on behalf of ClientID at now,
// without retry window, and returns the result. It fails the test unless
// Rotate succeeds.
func RequireRotate(t testing.TB, s tokenstore.Store, presented tokenstore.TokenRef, now time.Time) tokenstore.RotateResult {
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
