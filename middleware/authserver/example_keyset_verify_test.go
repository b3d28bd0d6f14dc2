package authserver_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
)

func ExampleKeySet_AccessTokenVerifier() {
	key, err := authserver.GenerateSigningKey("ES256")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := authserver.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}
	// A resource server in the same process as the authorization server:
	// the verifier follows key rotations.
	verifier, err := keys.AccessTokenVerifier(middleware.JWTConfig{
		Issuers:  []string{"https://auth.example.org"},
		Audience: "https://fhir.example.org/r4",
	})
	if err != nil {
		log.Fatal(err)
	}
	protect := middleware.Authenticate(verifier)
	_ = protect // wrap the FHIR handler with it

	now := time.Now()
	token, err := keys.Sign(authserver.TypeAccessToken, map[string]any{
		"iss": "https://auth.example.org", "aud": "https://fhir.example.org/r4", "sub": "user-1",
		"client_id": "my-app", "scope": "patient/*.rs", "patient": "123",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	if err != nil {
		log.Fatal(err)
	}
	lc, err := verifier.VerifyToken(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lc.ClientID, lc.Patient, lc.Scopes)
	// Output:
	// my-app 123 patient/*.rs
}
