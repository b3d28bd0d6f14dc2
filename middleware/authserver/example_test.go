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

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

func ExampleNewTokenHandler() {
	ctx := context.Background()
	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})

	key, err := authserver.GenerateSigningKey("ES256")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := authserver.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}
	clients, err := authserver.NewStaticClients(authserver.Client{
		ID: "my-app", AuthMethod: authserver.AuthClientSecretBasic, SecretHash: authserver.HashSecret("my-app-secret-123"),
	})
	if err != nil {
		log.Fatal(err)
	}
	clientAuth, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients: clients, TokenEndpoint: "https://auth.example.org/token", Replay: store,
	})
	if err != nil {
		log.Fatal(err)
	}
	token, err := authserver.NewTokenHandler(authserver.TokenConfig{
		Issuer:   "https://auth.example.org",
		Audience: "https://fhir.example.org/r4",
		Store:    store,
		Clients:  clientAuth,
		Keys:     keys,
		Audit:    func(context.Context, authserver.AuditEvent) {}, // default: slog
	})
	if err != nil {
		log.Fatal(err)
	}

	// After the user authorised my-app (authorization_code, or a demo
	// setup), the grant is created and its first refresh token handed out.
	banner := true
	refreshToken, _, err := token.CreateGrant(ctx, authserver.NewGrant{
		ClientID: "my-app", Subject: "user-1", FHIRUser: "Practitioner/77",
		Scope:  "openid fhirUser offline_access launch/patient patient/*.rs",
		Launch: authserver.Launch{Patient: "123", NeedPatientBanner: &banner},
	})
	if err != nil {
		log.Fatal(err)
	}

	// The app refreshes.
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("my-app", "my-app-secret-123")
	rec := httptest.NewRecorder()
	token.ServeHTTP(rec, req)

	var resp authserver.TokenResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Code, rec.Header().Get("Cache-Control"))
	fmt.Println(resp.TokenType, resp.ExpiresIn, resp.Scope)
	fmt.Println("patient:", resp.Patient, "banner:", *resp.NeedPatientBanner)
	fmt.Println("rotated:", resp.RefreshToken != refreshToken, "id_token:", resp.IDToken != "")

	// Say the answer was lost: within the retry window, the app presents
	// the same token again and gets new tokens; the successor issued first
	// is now dead.
	first := resp.RefreshToken
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("my-app", "my-app-secret-123")
	token.ServeHTTP(rec, req)
	fmt.Println("retry:", rec.Code)

	// Whoever presents the dead successor (a thief who copied the first
	// answer) is refused, and the whole family is revoked.
	form.Set("refresh_token", first)
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("my-app", "my-app-secret-123")
	token.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 no-store
	// Bearer 3600 openid fhirUser offline_access launch/patient patient/*.rs
	// patient: 123 banner: true
	// rotated: true id_token: true
	// retry: 200
	// 400 {"error":"invalid_grant","error_description":"the refresh token is invalid, expired or revoked"}
}

func ExampleNewKeySet() {
	key, err := authserver.GenerateSigningKey("ES256")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := authserver.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}

	// Publish the public keys at the jwks_uri.
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", keys.JWKSHandler())

	// A resource server in the same process may verify with the keys
	// directly; a separate one uses JWTConfig.JWKSURLs.
	v, err := middleware.NewJWTVerifier(context.Background(), middleware.JWTConfig{
		StaticKeys:  keys.PublicKeys(),
		Issuers:     []string{"https://auth.example.org"},
		Audience:    "https://fhir.example.org/r4",
		RequireType: authserver.TypeAccessToken,
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = v

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(set.Keys), set.Keys[0]["kty"], set.Keys[0]["crv"], set.Keys[0]["alg"], set.Keys[0]["kid"] == keys.ActiveKeyID())
	// Output:
	// 1 EC P-256 ES256 true
}

func ExampleCORS_Wrap() {
	cors := authserver.CORS{AllowedOrigins: []string{"https://app.example.com"}}
	h := cors.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	req := httptest.NewRequest(http.MethodOptions, "/token", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), rec.Header().Get("Access-Control-Allow-Methods"))
	// Output:
	// 204 https://app.example.com POST
}
