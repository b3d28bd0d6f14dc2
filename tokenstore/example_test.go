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
	// its first refresh token, a value that names the grant.
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
	token, ref := tokenstore.NewRefreshToken(grant.ID)
	err := store.CreateGrant(ctx, grant, tokenstore.RefreshToken{
		Hash: ref.Hash, Generation: 1, IssuedAt: now, ExpiresAt: grant.NextExpiry(now),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// An hour later the client refreshes: the token it presents is
	// rotated. A client that lost the answer may present it again within
	// RetryWindow (on the store's clock) and get another successor.
	next, nextRef := tokenstore.NewRefreshToken(grant.ID)
	res, err := store.Rotate(ctx, tokenstore.RotateRequest{
		Presented:   tokenstore.ParseRefreshToken(token),
		Next:        nextRef.Hash,
		ClientID:    "growth-chart",
		Now:         now.Add(time.Hour),
		RetryWindow: 10 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("generation:", res.Token.Generation, "retry:", res.Retry)
	fmt.Println("launch context:", string(res.Grant.LaunchContext))
	fmt.Println("expires:", res.Token.ExpiresAt.Format(time.DateOnly))
	// "next" is sent to the client, which uses it an hour later.
	if _, err := store.Rotate(ctx, tokenstore.RotateRequest{
		Presented: tokenstore.ParseRefreshToken(next),
		Next:      tokenstore.HashToken("unused-1"),
		ClientID:  "growth-chart",
		Now:       now.Add(2 * time.Hour),
	}); err != nil {
		fmt.Println(err)
		return
	}

	// Presenting the first token again, once its successor has been used,
	// is reuse: the family is revoked, and the token the client holds now
	// fails too.
	_, err = store.Rotate(ctx, tokenstore.RotateRequest{
		Presented:   tokenstore.ParseRefreshToken(token),
		Next:        tokenstore.HashToken("unused-2"),
		ClientID:    "growth-chart",
		Now:         now.Add(3 * time.Hour),
		RetryWindow: 10 * time.Second,
	})
	fmt.Println(err)
	_, tok, _ := store.LookupToken(ctx, tokenstore.ParseRefreshToken(next))
	g, _ := store.Grant(ctx, grant.ID)
	fmt.Println(tok.Check(g, now.Add(3*time.Hour)))
	// Output:
	// generation: 2 retry: false
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
