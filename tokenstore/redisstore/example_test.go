package redisstore_test

import (
	"context"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
)

// The store needs a go-redis client; it works the same with a single node,
// Sentinel (redis.NewFailoverClient) or a Cluster (redis.NewClusterClient).
func ExampleNew() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	store := redisstore.New(client, redisstore.Options{Prefix: "myapp:"})

	ctx := context.Background()
	now := time.Now()
	tok, hash := tokenstore.NewToken()
	g := tokenstore.Grant{
		ID:        tokenstore.NewID(),
		ClientID:  "my-app",
		Subject:   "user-1",
		Scope:     "openid offline_access patient/*.rs",
		IssuedAt:  now,
		ExpiresAt: now.Add(90 * 24 * time.Hour),
		Kind:      tokenstore.KindOffline,
	}
	if err := store.CreateGrant(ctx, g, tokenstore.RefreshToken{Hash: hash, IssuedAt: now, ExpiresAt: g.ExpiresAt}); err != nil {
		log.Fatal(err)
	}

	// Later: the client presents tok.
	_, nextHash := tokenstore.NewToken()
	res, err := store.Rotate(ctx, tokenstore.RotateRequest{
		Presented: tokenstore.HashToken(tok),
		Next:      nextHash,
		ClientID:  "my-app",
		Now:       time.Now(),
	})
	if err != nil {
		log.Fatal(err) // a tokenstore sentinel means invalid_grant, anything else server_error
	}
	log.Println("generation", res.Token.Generation)
}
