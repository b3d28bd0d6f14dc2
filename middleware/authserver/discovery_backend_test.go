package authserver_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// TestDiscoveryBackendServices: with DiscoveryConfig.Tokens the document
// advertises exactly the grant types the token handler serves, and the
// client_credentials grant comes with what SMART's
// client-confidential-asymmetric discovery requirements name: the
// capability, private_key_jwt and the accepted assertion algorithms.
func TestDiscoveryBackendServices(t *testing.T) {
	const tok = "https://auth.example.org/token"
	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	auth, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients: mustStaticClients(t), TokenEndpoint: tok, Replay: store,
		AssertionAlgorithms: []string{"ES384", "RS384"},
	})
	require.NoError(t, err)
	handler := func(cc bool) *authserver.TokenHandler {
		cfg := authserver.TokenConfig{Issuer: testIssuer, Audience: testAudience, Store: store, Clients: auth, Keys: mustKeySet(t)}
		if cc {
			cfg.ClientCredentials = &authserver.ClientCredentialsConfig{}
		}
		h, err := authserver.NewTokenHandler(cfg)
		require.NoError(t, err)
		return h
	}
	backend, refreshOnly := handler(true), handler(false)

	tests := []struct {
		name string
		cfg  authserver.DiscoveryConfig
		want string
	}{
		{
			name: "backend services: grant, capability, method and algorithms from the handler",
			cfg: authserver.DiscoveryConfig{
				TokenEndpoint: tok, Tokens: backend,
				TokenEndpointAuthMethodsSupported: []authserver.AuthMethod{authserver.AuthPrivateKeyJWT},
				ScopesSupported:                   []string{"system/*.rs"},
			},
			want: `{"grant_types_supported":["refresh_token","client_credentials"],` +
				`"token_endpoint":"https://auth.example.org/token",` +
				`"token_endpoint_auth_methods_supported":["private_key_jwt"],` +
				`"token_endpoint_auth_signing_alg_values_supported":["ES384","RS384"],` +
				`"scopes_supported":["system/*.rs"],` +
				`"code_challenge_methods_supported":["S256"],` +
				`"capabilities":["client-confidential-asymmetric",` +
				`"permission-offline","permission-online","permission-patient","permission-user","permission-v1","permission-v2"]}`,
		},
		{
			name: "backend services beside apps",
			cfg:  authserver.DiscoveryConfig{TokenEndpoint: tok, Tokens: backend},
			want: `{"grant_types_supported":["refresh_token","client_credentials"],` +
				`"token_endpoint":"https://auth.example.org/token",` +
				`"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","private_key_jwt","none"],` +
				`"token_endpoint_auth_signing_alg_values_supported":["ES384","RS384"],` +
				`"code_challenge_methods_supported":["S256"],` +
				`"capabilities":["client-public","client-confidential-symmetric","client-confidential-asymmetric",` +
				`"permission-offline","permission-online","permission-patient","permission-user","permission-v1","permission-v2"]}`,
		},
		{
			name: "a handler without the grant does not advertise it",
			cfg: authserver.DiscoveryConfig{
				TokenEndpoint: tok, Tokens: refreshOnly,
				TokenEndpointAuthMethodsSupported: []authserver.AuthMethod{authserver.AuthClientSecretBasic},
			},
			want: `{"grant_types_supported":["refresh_token"],` +
				`"token_endpoint":"https://auth.example.org/token",` +
				`"token_endpoint_auth_methods_supported":["client_secret_basic"],` +
				`"code_challenge_methods_supported":["S256"],` +
				`"capabilities":["client-confidential-symmetric",` +
				`"permission-offline","permission-online","permission-patient","permission-user","permission-v1","permission-v2"]}`,
		},
		{
			name: "an explicit subset of the served grants",
			cfg: authserver.DiscoveryConfig{
				TokenEndpoint: tok, Tokens: backend, GrantTypesSupported: []string{"client_credentials"},
				TokenEndpointAuthMethodsSupported:          []authserver.AuthMethod{authserver.AuthPrivateKeyJWT},
				TokenEndpointAuthSigningAlgValuesSupported: []string{"ES384"},
			},
			want: `{"grant_types_supported":["client_credentials"],` +
				`"token_endpoint":"https://auth.example.org/token",` +
				`"token_endpoint_auth_methods_supported":["private_key_jwt"],` +
				`"token_endpoint_auth_signing_alg_values_supported":["ES384"],` +
				`"code_challenge_methods_supported":["S256"],` +
				`"capabilities":["client-confidential-asymmetric",` +
				`"permission-offline","permission-online","permission-patient","permission-user","permission-v1","permission-v2"]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := authserver.NewDiscoveryHandler(tt.cfg)
			require.NoError(t, err)
			rec := serveDiscovery(t, h, http.MethodGet, nil)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, tt.want, rec.Body.String())
		})
	}

	errors := []struct {
		name, want string
		cfg        authserver.DiscoveryConfig
	}{
		{
			name: "a grant the handler does not serve",
			cfg:  authserver.DiscoveryConfig{TokenEndpoint: tok, Tokens: refreshOnly, GrantTypesSupported: []string{"refresh_token", "client_credentials"}},
			want: `authserver: invalid discovery configuration: the token handler does not serve grant type "client_credentials"`,
		},
		{
			name: "authorization_code not served by the handler",
			cfg: authserver.DiscoveryConfig{TokenEndpoint: tok, Tokens: backend, AuthorizationEndpoint: "https://auth.example.org/authorize",
				GrantTypesSupported: []string{"authorization_code"}},
			want: `authserver: invalid discovery configuration: the token handler does not serve grant type "authorization_code"`,
		},
		{
			name: "client_credentials without private_key_jwt",
			cfg: authserver.DiscoveryConfig{TokenEndpoint: tok, Tokens: backend,
				TokenEndpointAuthMethodsSupported: []authserver.AuthMethod{authserver.AuthClientSecretBasic}},
			want: "authserver: invalid discovery configuration: the client_credentials grant needs the private_key_jwt authentication method",
		},
		{
			name: "client_credentials listed without private_key_jwt",
			cfg: authserver.DiscoveryConfig{TokenEndpoint: tok, GrantTypesSupported: []string{"client_credentials"},
				TokenEndpointAuthMethodsSupported: []authserver.AuthMethod{authserver.AuthNone}},
			want: "authserver: invalid discovery configuration: the client_credentials grant needs the private_key_jwt authentication method",
		},
		{
			name: "client_credentials without the asymmetric capability",
			cfg: authserver.DiscoveryConfig{TokenEndpoint: tok, Tokens: backend,
				Capabilities: []string{"client-confidential-symmetric", "permission-v2"}},
			want: "authserver: invalid discovery configuration: the client_credentials grant needs the client-confidential-asymmetric capability",
		},
	}
	for _, tt := range errors {
		t.Run(tt.name, func(t *testing.T) {
			h, err := authserver.NewDiscoveryHandler(tt.cfg)
			require.ErrorIs(t, err, authserver.ErrInvalidDiscovery)
			assert.EqualError(t, err, tt.want)
			assert.Nil(t, h)
		})
	}
}
