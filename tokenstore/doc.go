// Package tokenstore defines how smartauth persists refresh-token families
// (grants) and hashed refresh tokens (Store), and authorization codes and
// SMART EHR launches (CodeStore), and provides the in-memory default
// implementation of both.
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
// Authorization codes are kept hashed too (CodeStore). A code names the
// grant it will create: the authorization server picks the grant ID when
// it issues the code and makes the code value with NewRefreshToken, so a
// store keeps the code with the family it creates. RedeemCode checks a
// presented code (client, expiry, redirect URI, PKCE challenge) and
// creates its grant and first refresh token in one atomic operation, so a
// code is exchanged once, whatever the number of concurrent
// presentations, and the first presentation to reach the store gets the
// tokens; every later presentation revokes that grant. A code consumed by
// a refused presentation has no grant: presenting it again leaves a
// revoked placeholder under its grant ID (see RedeemRequest). EHR launches are single-use records of a launch
// context, consumed with ConsumeLaunch.
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
//
// Authorization codes, on the same store:
//
//	grantID := tokenstore.NewID()
//	code, ref := tokenstore.NewRefreshToken(grantID)
//	err := store.CreateCode(ctx, tokenstore.AuthorizationCode{Hash: ref.Hash,
//		GrantID: grantID, ClientID: "app", ..., ExpiresAt: now.Add(time.Minute)})
//	// redirect with code; the client exchanges it:
//	tok, first := tokenstore.NewRefreshToken(grantID)
//	res, err := store.RedeemCode(ctx, tokenstore.RedeemRequest{
//		Code: tokenstore.ParseRefreshToken(code), ClientID: "app", Now: now,
//		RedirectURI: redirectURI, CodeChallenge: s256(codeVerifier),
//		Grant: func(c tokenstore.AuthorizationCode) tokenstore.GrantTemplate {
//			return tokenstore.GrantTemplate{ExpiresAt: now.Add(90 * 24 * time.Hour),
//				Kind: tokenstore.KindOffline, RefreshToken: first.Hash}
//		}})
//	// res.Grant is stored, with its first refresh token: hand tok out.
package tokenstore
