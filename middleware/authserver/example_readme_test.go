package authserver_test

import (
	"context"
	"log"
	"net/http"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// Example_backendServices is the README's "Backend Services and Bulk Data"
// snippet, compiled (it needs a reachable JWK Set URL to run).
func Example_backendServices() {
	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	key, _ := authserver.GenerateSigningKey("ES256")
	keys, _ := authserver.NewKeySet(key)

	clients, _ := authserver.NewStaticClients(authserver.Client{
		ID:         "bulk-exporter",
		AuthMethod: authserver.AuthPrivateKeyJWT,
		JWKSURL:    "https://exporter.example.org/jwks.json", // or JWKS: the set inline
		Scope:      "system/*.rs",                            // what it is pre-authorized for
	})
	clientAuth, _ := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients: clients, TokenEndpoint: "https://auth.example.org/token",
		Replay: store, // each assertion's jti is single use across instances
	})
	tokens, _ := authserver.NewTokenHandler(authserver.TokenConfig{
		Issuer: "https://auth.example.org", Audience: "https://fhir.example.org/r4",
		Store: store, Clients: clientAuth, Keys: keys,
		ClientCredentials: &authserver.ClientCredentialsConfig{}, // 300 s tokens
	})
	discovery, _ := authserver.NewDiscoveryHandler(authserver.DiscoveryConfig{
		TokenEndpoint: "https://auth.example.org/token", JWKSURI: "https://auth.example.org/jwks.json",
		Tokens:          tokens, // advertises exactly the grant types it serves
		ScopesSupported: []string{"system/*.rs"},
	})

	mux := http.NewServeMux()
	mux.Handle("/token", tokens)
	mux.Handle("/.well-known/smart-configuration", discovery)
}

// Example_signingKeysFile is the README's "Signing keys for many
// instances" snippet, compiled (it needs the key file to run).
func Example_signingKeysFile() {
	ctx := context.Background()
	keys, err := authserver.LoadKeySetFile("/etc/smartauth/signing-keys.json")
	go keys.WatchFile(ctx, "/etc/smartauth/signing-keys.json", 0) // re-read every 10 s
	if err != nil {
		log.Print(err)
	}
}
