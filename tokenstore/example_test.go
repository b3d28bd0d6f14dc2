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
	// tokenstore: refresh token or code reused
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

// An authorization code is created at the authorization endpoint and
// exchanged once at the token endpoint; a second exchange revokes the
// grant made from it.
func ExampleMemoryStore_RedeemCode() {
	ctx := context.Background()
	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	now := time.Date(2030, time.January, 1, 9, 0, 0, 0, time.UTC)

	// The user has signed in and consented: the server picks the ID of the
	// grant the code will create, and makes a code value that names it.
	grantID := tokenstore.NewID()
	code, ref := tokenstore.NewRefreshToken(grantID)
	err := store.CreateCode(ctx, tokenstore.AuthorizationCode{
		Hash:          ref.Hash,
		GrantID:       grantID,
		ClientID:      "growth-chart",
		RedirectURI:   "https://growth-chart.example.org/callback",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Scope:         "openid fhirUser offline_access launch/patient patient/*.rs",
		Subject:       "user-1",
		LaunchContext: []byte(`{"patient":"123"}`),
		IssuedAt:      now,
		ExpiresAt:     now.Add(time.Minute),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The client exchanges the code. The store checks the client, the
	// expiry, the redirect_uri and the PKCE challenge of the verifier,
	// and creates the grant with its first refresh token, at once.
	refreshToken, first := tokenstore.NewRefreshToken(grantID)
	redeem := func(at time.Time) (tokenstore.RedeemResult, error) {
		return store.RedeemCode(ctx, tokenstore.RedeemRequest{
			Code:          tokenstore.ParseRefreshToken(code),
			ClientID:      "growth-chart",
			Now:           at,
			RedirectURI:   "https://growth-chart.example.org/callback",
			CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", // S256 of the verifier
			Grant: func(c tokenstore.AuthorizationCode) tokenstore.GrantTemplate {
				return tokenstore.GrantTemplate{
					ExpiresAt: at.Add(90 * 24 * time.Hour), Kind: tokenstore.KindOffline,
					RefreshToken: first.Hash, // offline_access was granted
				}
			},
		})
	}
	res, err := redeem(now.Add(2 * time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("grant:", res.Grant.ID == grantID, res.Grant.Scope)
	_ = refreshToken // returned to the client with the access token

	// The same code presented again: refused, and the grant is revoked.
	_, err = redeem(now.Add(5 * time.Second))
	fmt.Println(err)
	g, _ := store.Grant(ctx, grantID)
	fmt.Println("revoked:", g.Revoked)
	// Output:
	// grant: true openid fhirUser offline_access launch/patient patient/*.rs
	// tokenstore: refresh token or code reused
	// revoked: true
}

// The EHR registers a launch and hands its value to the app; the
// authorization endpoint consumes it once.
func ExampleMemoryStore_ConsumeLaunch() {
	ctx := context.Background()
	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	now := time.Date(2030, time.January, 1, 9, 0, 0, 0, time.UTC)

	launch, hash := tokenstore.NewToken()
	if err := store.CreateLaunch(ctx, tokenstore.Launch{
		Hash:          hash,
		LaunchContext: []byte(`{"patient":"123","encounter":"e-9"}`),
		IssuedAt:      now,
		ExpiresAt:     now.Add(5 * time.Minute),
	}); err != nil {
		fmt.Println(err)
		return
	}

	l, err := store.ConsumeLaunch(ctx, tokenstore.ParseRefreshToken(launch), now.Add(10*time.Second))
	fmt.Println(string(l.LaunchContext), err)
	_, err = store.ConsumeLaunch(ctx, tokenstore.ParseRefreshToken(launch), now.Add(20*time.Second))
	fmt.Println(err)
	// Output:
	// {"patient":"123","encounter":"e-9"} <nil>
	// tokenstore: not found
}
