package redisstore_test

import (
	"context"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
)

// The store needs a go-redis client with ContextTimeoutEnabled; it works
// the same with a single node, Sentinel (redis.NewFailoverClient) or a
// Cluster (redis.NewClusterClient), which spreads the families over its
// masters.
func ExampleNew() {
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"},
		ContextTimeoutEnabled: true, // the ctx deadline bounds every call
	})
	defer client.Close()
	store := redisstore.New(client, redisstore.Options{Prefix: "myapp:"})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	now := time.Now()
	g := tokenstore.Grant{
		ID:        tokenstore.NewID(),
		ClientID:  "my-app",
		Subject:   "user-1",
		Scope:     "openid offline_access patient/*.rs",
		IssuedAt:  now,
		ExpiresAt: now.Add(90 * 24 * time.Hour),
		Kind:      tokenstore.KindOffline,
	}
	// A value that names its grant is found in one round trip.
	value, ref := tokenstore.NewRefreshToken(g.ID)
	first := tokenstore.RefreshToken{Hash: ref.Hash, IssuedAt: now, ExpiresAt: g.ExpiresAt}
	if err := store.CreateGrant(ctx, g, first); err != nil {
		log.Fatal(err)
	}

	// Later: the client presents value.
	_, next := tokenstore.NewRefreshToken(g.ID)
	res, err := store.Rotate(ctx, tokenstore.RotateRequest{
		Presented:   tokenstore.ParseRefreshToken(value),
		Next:        next.Hash,
		ClientID:    "my-app",
		Now:         time.Now(),
		RetryWindow: 30 * time.Second,
	})
	if err != nil {
		log.Fatal(err) // a tokenstore sentinel means invalid_grant, anything else server_error
	}
	log.Println("generation", res.Token.Generation)
}

// After upgrading from the version whose keys all shared the hash tag
// "{" + Prefix + "}", copy the records into the current layout once,
// before serving.
func ExampleStore_MigrateLegacyKeys() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store := redisstore.New(client, redisstore.Options{Prefix: "myapp:"})

	n, err := store.MigrateLegacyKeys(context.Background())
	if err != nil {
		log.Fatal(err) // safe to run again
	}
	log.Printf("copied %d token families", n)
}

// Authorization codes are kept next to the family they create: the code
// value names the grant ID, so a Cluster finds both in one slot.
func ExampleStore_RedeemCode() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store := redisstore.New(client, redisstore.Options{Prefix: "myapp:"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	now := time.Now()
	grantID := tokenstore.NewID()
	code, ref := tokenstore.NewRefreshToken(grantID) // sent to the client
	if err := store.CreateCode(ctx, tokenstore.AuthorizationCode{
		Hash: ref.Hash, GrantID: grantID, ClientID: "my-app",
		RedirectURI: "https://my-app.example.org/cb", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Scope: "openid patient/*.rs", Subject: "user-1", IssuedAt: now, ExpiresAt: now.Add(time.Minute),
	}); err != nil {
		log.Fatal(err)
	}

	// At the token endpoint: the code, its binding, the grant it creates
	// and the grant's first refresh token, in one script run.
	now = time.Now()
	res, err := store.RedeemCode(ctx, tokenstore.RedeemRequest{
		Code: tokenstore.ParseRefreshToken(code), ClientID: "my-app", Now: now,
		RedirectURI:   "https://my-app.example.org/cb",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", // S256 of the code_verifier
		Grant: func(c tokenstore.AuthorizationCode) tokenstore.GrantTemplate {
			// No offline_access or online_access in c.Scope: no refresh token.
			return tokenstore.GrantTemplate{ExpiresAt: now.Add(time.Hour), Kind: tokenstore.KindOnline}
		},
	})
	if err != nil {
		log.Fatal(err) // a tokenstore sentinel means invalid_grant, anything else server_error
	}
	log.Println("grant", res.Grant.ID, "scope", res.Grant.Scope)
}
