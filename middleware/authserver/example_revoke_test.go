package authserver_test

import (
	"context"
	"fmt"
	"log"
	"net/url"

	"github.com/smartauth/smartauth/middleware/authserver"
)

func ExampleNewRevocationHandler() {
	as := newExampleAuthServer()
	revocation, err := authserver.NewRevocationHandler(authserver.RevocationConfig{
		Issuer:   "https://auth.example.org",
		Audience: "https://fhir.example.org/r4",
		Store:    as.store,
		Keys:     as.keys,
		Clients:  as.clients,
		// Browser apps (public clients) revoke their tokens when the user
		// logs out.
		CORS:  authserver.CORS{AllowedOrigins: []string{"https://app.example.com"}},
		Audit: func(context.Context, authserver.AuditEvent) {}, // default: slog
		Now:   as.now,
	})
	if err != nil {
		log.Fatal(err)
	}

	refreshToken, _, err := as.token.CreateGrant(context.Background(), authserver.NewGrant{
		ClientID: "my-app", Subject: "user-1", Scope: "patient/*.rs offline_access",
	})
	if err != nil {
		log.Fatal(err)
	}

	// Another client cannot revoke it: 200, as for an invalid token, but
	// nothing happens.
	rec := examplePost(revocation, url.Values{"token": {refreshToken}}, "fhir-server", "fhir-server-secret-456")
	fmt.Printf("%d %q\n", rec.Code, rec.Body.String())

	// The app revokes it: the whole grant is revoked.
	rec = examplePost(revocation, url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}},
		"my-app", "my-app-secret-123")
	fmt.Printf("%d %q\n", rec.Code, rec.Body.String())

	rec = examplePost(as.token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}},
		"my-app", "my-app-secret-123")
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 ""
	// 200 ""
	// 400 {"error":"invalid_grant","error_description":"the refresh token is invalid, expired or revoked"}
}
