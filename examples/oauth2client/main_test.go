package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/examples/internal/demo"
)

// TestOAuth2ClientAgainstDemo runs the x/oauth2 client against the demo
// server, in-process.
func TestOAuth2ClientAgainstDemo(t *testing.T) {
	cfg, err := demo.LoadConfig("../../testdata/demo-config.json")
	require.NoError(t, err)
	require.Equal(t, defaultRefreshToken, cfg.Grants[0].RefreshToken)
	ts := httptest.NewServer(nil)
	defer ts.Close()
	srv, err := demo.New(context.Background(), demo.Options{
		BaseURL: ts.URL, Config: cfg, Data: os.DirFS("../../testdata/fhir"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	ts.Config.Handler = srv.Handler

	p := Params{
		TokenURL: srv.TokenURL, FHIRBaseURL: srv.FHIRBaseURL,
		ClientID: "my-app", ClientSecret: "my-app-secret-123", RefreshToken: defaultRefreshToken,
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), p, &out))
	assert.Contains(t, out.String(), "patient=783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3")
	assert.Contains(t, out.String(), "GET Patient/783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3: 200 OK")
	assert.Contains(t, out.String(), `"resourceType": "Patient"`)

	// The refresh token rotated: presenting it again is reuse.
	err = run(context.Background(), p, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid_grant")

	// A wrong secret is refused (the SMART launcher accepted any).
	p.ClientSecret = "wrong"
	err = run(context.Background(), p, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid_client")
}
