package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
)

// requireFamilyInvariant checks the invariant of tokenstore.Store on the
// tokens refs name, which must be every token of one family that any
// presenter received (its first token and the Token of every successful
// Rotate): at now, at most one of them is live (RefreshToken.Check
// reports nil), and exactly one unless the grant is revoked. It returns
// the index of the live token in refs, or -1.
func requireFamilyInvariant(t testing.TB, s tokenstore.Store, now time.Time, refs ...tokenstore.TokenRef) int {
	t.Helper()
	require.NotEmpty(t, refs, "refs")
	live := -1
	var grantID string
	revoked := false
	for i, ref := range refs {
		g, tok := lookup(t, s, ref)
		if i == 0 {
			grantID = g.ID
		}
		require.Equal(t, grantID, g.ID, "token %d belongs to another family", i)
		revoked = revoked || g.Revoked
		if tok.Check(g, now) != nil {
			continue
		}
		require.Equalf(t, -1, live, "tokens %d and %d are both live: the family has forked", live, i)
		live = i
	}
	if !revoked {
		require.NotEqual(t, -1, live, "the family is not revoked, so one of its tokens must be live")
	}
	return live
}
