package authserver_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/smartauth/smartauth/middleware/authserver"
)

func ExampleNewDiscoveryHandler() {
	discovery, err := authserver.NewDiscoveryHandler(authserver.DiscoveryConfig{
		TokenEndpoint:         "https://auth.example.org/token",
		IntrospectionEndpoint: "https://auth.example.org/introspect",
		RevocationEndpoint:    "https://auth.example.org/revoke",
		TokenEndpointAuthMethodsSupported: []authserver.AuthMethod{
			authserver.AuthClientSecretBasic, authserver.AuthNone,
		},
		ScopesSupported: []string{"offline_access", "online_access", "patient/*.rs"},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Mount it under the FHIR base URL.
	mux := http.NewServeMux()
	mux.Handle("/r4"+authserver.DiscoveryPath, discovery)

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/r4/.well-known/smart-configuration", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Access-Control-Allow-Origin"))
	fmt.Println(rec.Body.String())
	// Output:
	// 200 application/json *
	// {"grant_types_supported":["refresh_token"],"token_endpoint":"https://auth.example.org/token","token_endpoint_auth_methods_supported":["client_secret_basic","none"],"scopes_supported":["offline_access","online_access","patient/*.rs"],"introspection_endpoint":"https://auth.example.org/introspect","revocation_endpoint":"https://auth.example.org/revoke","code_challenge_methods_supported":["S256"],"capabilities":["client-public","client-confidential-symmetric","permission-offline","permission-online","permission-patient","permission-user","permission-v1","permission-v2"]}
}
