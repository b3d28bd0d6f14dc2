package pgstore_test

import (
	"context"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/pgstore"
)

func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	store, err := pgstore.New(pool, pgstore.Options{Schema: "auth"})
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	now := time.Now()
	_, hash := tokenstore.NewToken()
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
}

// Sweep removes expired records; run it periodically from one or more
// processes.
func ExampleStore_Sweep() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	store, err := pgstore.New(pool, pgstore.Options{})
	if err != nil {
		log.Fatal(err)
	}

	ticker := time.NewTicker(10 * time.Minute)
	defer ticker.Stop()
	for now := range ticker.C {
		n, err := store.Sweep(ctx, now)
		if err != nil {
			log.Printf("sweep: %v", err)
			continue
		}
		log.Printf("sweep: %d expired records removed", n)
	}
}

// An EHR registers a launch; the authorization endpoint consumes it once
// when the app brings its launch value.
func ExampleStore_ConsumeLaunch() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := pgstore.New(pool, pgstore.Options{})
	if err != nil {
		log.Fatal(err)
	}

	now := time.Now()
	launch, hash := tokenstore.NewToken() // handed to the app by the EHR
	if err := store.CreateLaunch(ctx, tokenstore.Launch{
		Hash: hash, ClientID: "my-app", LaunchContext: []byte(`{"patient":"123"}`),
		IssuedAt: now, ExpiresAt: now.Add(5 * time.Minute),
	}); err != nil {
		log.Fatal(err)
	}

	// At the authorization endpoint:
	l, err := store.ConsumeLaunch(ctx, tokenstore.ParseRefreshToken(launch), time.Now())
	if err != nil {
		log.Fatal(err) // ErrNotFound, ErrExpired: invalid launch; anything else: server error
	}
	if l.ClientID != "" && l.ClientID != "my-app" {
		log.Fatal("launch issued to another app")
	}
	log.Printf("launch context %s", l.LaunchContext)
}
