package authserver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// testClients returns the client authenticator of the test clients, and of
// the seed's "my-app" (client_secret_basic).
func testClients(t testing.TB, store tokenstore.Store, now func() time.Time) *authserver.ClientAuthenticator {
	t.Helper()
	clients, err := authserver.NewStaticClients(
		authserver.Client{ID: clientA, AuthMethod: authserver.AuthClientSecretBasic, SecretHash: authserver.HashSecret(clientASecret)},
		authserver.Client{ID: clientB, AuthMethod: authserver.AuthClientSecretBasic, SecretHash: authserver.HashSecret(clientBSecret)},
		authserver.Client{ID: clientPost, AuthMethod: authserver.AuthClientSecretPost, SecretHash: authserver.HashSecret(clientPostSec)},
		authserver.Client{ID: clientPublic, AuthMethod: authserver.AuthNone},
		authserver.Client{ID: "my-app", AuthMethod: authserver.AuthClientSecretBasic, SecretHash: authserver.HashSecret("my-app-secret-123")},
	)
	require.NoError(t, err)
	a, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients:       clients,
		TokenEndpoint: "https://auth.example.org/token",
		Replay:        store,
		Now:           now,
	})
	require.NoError(t, err)
	return a
}
