// Package tokenstore defines how smartauth persists refresh-token families
// (grants) and hashed refresh tokens, and provides the in-memory default
// implementation.
//
// The package knows nothing of HTTP or JWT: the launch context of a grant is
// opaque bytes, tokens are only ever seen as their SHA-256 Hash. Engine
// specific stores live in sub-packages (redisstore, pgstore) so importing
// this package never pulls in a database driver; every implementation passes
// the conformance suite in storetest.
//
// Refresh tokens are made by NewRefreshToken, whose values name their
// grant, and presented values are read with ParseRefreshToken: the
// resulting TokenRef lets stores that keep each family together (Redis
// Cluster) find a token without a global index. Rotation is decided by the
// store in the order presentations reach it; a client that presents a
// token again after losing the answer is served within
// RotateRequest.RetryWindow, without ever leaving two live tokens in a
// family (see Store and RotateRequest).
//
// Usage sketch:
//
//	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
//	g := tokenstore.Grant{ID: tokenstore.NewID(), ...}
//	tok, ref := tokenstore.NewRefreshToken(g.ID)
//	err := store.CreateGrant(ctx, g, tokenstore.RefreshToken{Hash: ref.Hash, ExpiresAt: ...})
//	// hand tok to the client; later it presents it:
//	next, nextRef := tokenstore.NewRefreshToken(g.ID)
//	res, err := store.Rotate(ctx, tokenstore.RotateRequest{
//		Presented: tokenstore.ParseRefreshToken(tok), Next: nextRef.Hash,
//		ClientID: "app", Now: time.Now(), RetryWindow: 10 * time.Second})
//	// hand "next" to the client; res.Grant holds scope and launch context.
package tokenstore
