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
// Usage sketch:
//
//	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
//	tok, hash := tokenstore.NewToken()
//	err := store.CreateGrant(ctx, tokenstore.Grant{ID: tokenstore.NewID(), ...},
//		tokenstore.RefreshToken{Hash: hash, ExpiresAt: ...})
//	next, nextHash := tokenstore.NewToken()
//	res, err := store.Rotate(ctx, tokenstore.RotateRequest{
//		Presented: tokenstore.HashToken(tok), Next: nextHash, ClientID: "app", Now: time.Now()})
//	// hand "next" to the client; res.Grant holds scope and launch context.
package tokenstore
