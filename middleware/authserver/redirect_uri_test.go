package authserver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// TestValidateClientRedirectURIs: what may be registered as a redirect
// URI (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1).
func TestValidateClientRedirectURIs(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"https://app.example.com/callback", true},
		{"https://app.example.com/cb?tenant=7", true},
		{"http://127.0.0.1:8081/", true},
		{"http://localhost:3000/callback", true},
		{"http://[::1]:9000/cb", true},
		{"com.example.app:/oauth2redirect", true},
		{"http://app.example.com/callback", false}, // http off loopback
		{"https://app.example.com/cb#frag", false},
		{"https://app.example.com/cb#", false},
		{"/callback", false},
		{"https:///callback", false},
		{"https://user:pw@app.example.com/cb", false},
		{"javascript:alert(1)", false},
		{"data:text/html,hi", false},
		{"myapp:/cb", false}, // a private-use scheme must be a reversed domain name
		{"https://app.example.com/c b", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			err := authserver.ValidateClient(&authserver.Client{ID: "c", AuthMethod: authserver.AuthNone, RedirectURIs: []string{tt.uri}})
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, authserver.ErrInvalidRegistration)
			}
		})
	}
	dup := authserver.ValidateClient(&authserver.Client{ID: "c", AuthMethod: authserver.AuthNone,
		RedirectURIs: []string{"https://a.example/cb", "https://a.example/cb"}})
	assert.ErrorIs(t, dup, authserver.ErrInvalidRegistration)
}
