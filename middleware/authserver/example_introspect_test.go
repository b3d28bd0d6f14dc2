package authserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// exampleAuthServer is the token endpoint of the examples, with what the
// introspection and revocation endpoints share with it.
type exampleAuthServer struct {
	store   tokenstore.Store
	keys    *authserver.KeySet
	clients *authserver.ClientAuthenticator
	token   *authserver.TokenHandler
	now     func() time.Time
}

// newExampleAuthServer registers the app "my-app" and the resource server
// "fhir-server" (both client_secret_basic), at a fixed time.
func newExampleAuthServer() *exampleAuthServer {
	now := func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }
	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	key, err := authserver.GenerateSigningKey("ES256")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := authserver.NewKeySet(key, authserver.WithKeySetClock(now))
	if err != nil {
		log.Fatal(err)
	}
	registered, err := authserver.NewStaticClients(
		authserver.Client{ID: "my-app", AuthMethod: authserver.AuthClientSecretBasic, SecretHash: authserver.HashSecret("my-app-secret-123")},
		authserver.Client{ID: "fhir-server", AuthMethod: authserver.AuthClientSecretBasic, SecretHash: authserver.HashSecret("fhir-server-secret-456")},
	)
	if err != nil {
		log.Fatal(err)
	}
	clients, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients: registered, TokenEndpoint: "https://auth.example.org/token", Replay: store, Now: now,
	})
	if err != nil {
		log.Fatal(err)
	}
	token, err := authserver.NewTokenHandler(authserver.TokenConfig{
		Issuer: "https://auth.example.org", Audience: "https://fhir.example.org/r4",
		Store: store, Clients: clients, Keys: keys, Now: now,
		Audit: func(context.Context, authserver.AuditEvent) {},
	})
	if err != nil {
		log.Fatal(err)
	}
	return &exampleAuthServer{store: store, keys: keys, clients: clients, token: token, now: now}
}

// examplePost posts form to h with HTTP Basic client credentials.
func examplePost(h http.Handler, form url.Values, clientID, secret string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "https://auth.example.org/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func ExampleNewIntrospectionHandler() {
	as := newExampleAuthServer()
	introspection, err := authserver.NewIntrospectionHandler(authserver.IntrospectionConfig{
		Issuer:         "https://auth.example.org",
		Audience:       "https://fhir.example.org/r4",
		Store:          as.store,
		Keys:           as.keys,
		Clients:        as.clients,
		AllowedClients: []string{"fhir-server"},
		Now:            as.now,
	})
	if err != nil {
		log.Fatal(err)
	}

	refreshToken, _, err := as.token.CreateGrant(context.Background(), authserver.NewGrant{
		ClientID: "my-app", Subject: "user-1", Scope: "launch/patient patient/*.rs offline_access",
		Launch: authserver.Launch{Patient: "123"},
	})
	if err != nil {
		log.Fatal(err)
	}

	// The resource server asks about the refresh token...
	rec := examplePost(introspection, url.Values{"token": {refreshToken}}, "fhir-server", "fhir-server-secret-456")
	fmt.Println(rec.Code, rec.Header().Get("Cache-Control"))
	fmt.Println(rec.Body.String())

	// ... about an access token of the grant...
	refreshed := examplePost(as.token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}},
		"my-app", "my-app-secret-123")
	var tokens authserver.TokenResponse
	if err := json.Unmarshal(refreshed.Body.Bytes(), &tokens); err != nil {
		log.Fatal(err)
	}
	rec = examplePost(introspection, url.Values{"token": {tokens.AccessToken}, "token_type_hint": {"access_token"}},
		"fhir-server", "fhir-server-secret-456")
	var info authserver.IntrospectionResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Active, info.TokenType, info.ClientID, info.Patient, info.Scope)

	// ... and about the refresh token again: it has been rotated.
	rec = examplePost(introspection, url.Values{"token": {refreshToken}}, "fhir-server", "fhir-server-secret-456")
	fmt.Println(rec.Body.String())
	// Output:
	// 200 no-store
	// {"active":true,"scope":"launch/patient patient/*.rs offline_access","client_id":"my-app","token_type":"refresh_token","exp":1743422400,"iat":1740830400,"sub":"user-1","iss":"https://auth.example.org","patient":"123"}
	// true Bearer my-app 123 launch/patient patient/*.rs offline_access
	// {"active":false}
}
