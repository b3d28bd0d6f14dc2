package demo

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWelcomeCommandWorks: the printed commands, run by sh with curl,
// refresh the grant minted at this start and read the patient in context;
// the text says the credentials are for the demo only.
func TestWelcomeCommandWorks(t *testing.T) {
	srv, _, cfg := startDemo(t)
	var out bytes.Buffer
	PrintWelcome(&out, srv, cfg)
	welcome := out.String()

	require.NotNil(t, srv.DemoGrant)
	assert.Equal(t, "my-app", srv.DemoGrant.ClientID)
	assert.Equal(t, seedPatient, srv.DemoGrant.Patient)
	assert.NotEqual(t, cfg.Grants[0].RefreshToken, srv.DemoGrant.RefreshToken)
	assert.Contains(t, welcome, "\nREFRESH_TOKEN="+srv.DemoGrant.RefreshToken+"\n")
	assert.NotContains(t, welcome, cfg.Grants[0].RefreshToken, "the seed's fixed token may be used already")
	assert.Contains(t, welcome, "Demo credentials: made up for this demo and valid only on this server. Never use them elsewhere.")
	assert.Contains(t, welcome, "my-app, secret my-app-secret-123, sent with HTTP Basic: Authorization: "+seedBasic)
	for _, u := range []string{srv.FHIRBaseURL, srv.DiscoveryURL, srv.TokenURL, srv.JWKSURL, srv.IntrospectionURL, srv.RevocationURL} {
		assert.Contains(t, welcome, u)
	}

	cmds := welcomeCommands(t, welcome)
	got := runShell(t, cmds)
	assert.Contains(t, got, `"patient":"`+seedPatient+`"`)
	assert.Contains(t, got, `"resourceType": "Patient"`)
	assert.Contains(t, got, `"id": "`+seedPatient+`"`)

	// Its refresh token rotated: the same commands again are reuse.
	got = runShell(t, cmds)
	assert.Contains(t, got, `"error":"invalid_grant"`)
}

// TestWelcomeOtherClientMethods: a client_secret_post or public client's
// credentials go in the form.
func TestWelcomeOtherClientMethods(t *testing.T) {
	for _, tt := range []struct {
		method, secret, wantForm, wantDescribe string
	}{
		{"client_secret_post", "s3cret", "client_id=c&client_secret=s3cret", "c, secret s3cret, sent in the form body"},
		{"none", "", "client_id=c", "c (none)"},
	} {
		t.Run(tt.method, func(t *testing.T) {
			cfg := &Config{Clients: []ClientConfig{{ClientID: "c", AuthMethod: tt.method, ClientSecret: tt.secret}}}
			c := clientCredentials(cfg, "c")
			assert.Equal(t, tt.wantForm, c.form().Encode())
			assert.Empty(t, c.curlArgs())
			assert.Equal(t, tt.wantDescribe, c.describe())
		})
	}
	c := clientCredentials(&Config{Clients: []ClientConfig{{ClientID: "a:b", AuthMethod: "client_secret_basic", ClientSecret: "x+y"}}}, "a:b")
	assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("a%3Ab:x%2By")), c.basicHeader())
	assert.True(t, strings.HasPrefix(c.curlArgs(), " -H 'Authorization: Basic "))
}
