package tokenstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

func ExampleNewMemoryStore() {
	ctx := context.Background()
	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	now := time.Date(2030, time.January, 1, 9, 0, 0, 0, time.UTC)

	// The authorization server grants offline access and hands the client
	// its first refresh token.
	grant := tokenstore.Grant{
		ID:            tokenstore.NewID(),
		ClientID:      "growth-chart",
		Subject:       "user-1",
		Scope:         "openid fhirUser offline_access launch/patient patient/*.rs",
		LaunchContext: []byte(`{"patient":"123"}`),
		IssuedAt:      now,
		ExpiresAt:     now.Add(90 * 24 * time.Hour),
		IdleTimeout:   30 * 24 * time.Hour,
		Kind:          tokenstore.KindOffline,
	}
	token, hash := tokenstore.NewToken()
	err := store.CreateGrant(ctx, grant, tokenstore.RefreshToken{
		Hash: hash, Generation: 1, IssuedAt: now, ExpiresAt: grant.NextExpiry(now),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// An hour later the client refreshes: the token is rotated.
	next, nextHash := tokenstore.NewToken()
	res, err := store.Rotate(ctx, tokenstore.RotateRequest{
		Presented: tokenstore.HashToken(token),
		Next:      nextHash,
		ClientID:  "growth-chart",
		Now:       now.Add(time.Hour),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("generation:", res.Token.Generation)
	fmt.Println("launch context:", string(res.Grant.LaunchContext))
	fmt.Println("expires:", res.Token.ExpiresAt.Format(time.DateOnly))
	// "next" is sent to the client.

	// Presenting the old token again is reuse: the family is revoked, and
	// the token the client holds now fails too.
	_, unused := tokenstore.NewToken()
	_, err = store.Rotate(ctx, tokenstore.RotateRequest{
		Presented: tokenstore.HashToken(token),
		Next:      unused,
		ClientID:  "growth-chart",
		Now:       now.Add(2 * time.Hour),
	})
	fmt.Println(err)
	_, err = store.Rotate(ctx, tokenstore.RotateRequest{
		Presented: tokenstore.HashToken(next),
		Next:      unused,
		ClientID:  "growth-chart",
		Now:       now.Add(2 * time.Hour),
	})
	fmt.Println(err)
	// Output:
	// generation: 2
	// launch context: {"patient":"123"}
	// expires: 2030-01-31
	// tokenstore: refresh token reused
	// tokenstore: grant revoked
}

func ExampleMemoryStore_Sweep() {
	ctx := context.Background()
	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{SweepInterval: -1})
	now := time.Date(2030, time.January, 1, 9, 0, 0, 0, time.UTC)

	_ = store.UseOnce(ctx, "jti:growth-chart:a1", now.Add(5*time.Minute), now)
	fmt.Println(store.UseOnce(ctx, "jti:growth-chart:a1", now.Add(5*time.Minute), now.Add(time.Minute)))

	removed, err := store.Sweep(ctx, now.Add(5*time.Minute))
	fmt.Println(removed, err)
	// Output:
	// tokenstore: one-time value replayed
	// 1 <nil>
}
