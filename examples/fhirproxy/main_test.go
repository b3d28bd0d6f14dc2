package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/internal/naivefhir"
	"github.com/smartauth/smartauth/middleware/smarttest"
)

func TestUsage(t *testing.T) {
	var out strings.Builder
	err := run(t.Context(), []string{"-h"}, &out)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, out.String(), "Usage: fhirproxy -upstream URL")
	assert.Contains(t, out.String(), "-jwks-url")
}

func TestFlagErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no upstream":  {"-issuer", "https://a.test", "-jwks-url", "https://a.test/jwks"},
		"no issuer":    {"-upstream", "http://u.test", "-jwks-url", "https://a.test/jwks"},
		"no JWKS":      {"-upstream", "http://u.test", "-issuer", "https://a.test"},
		"argument":     {"-upstream", "http://u.test", "extra"},
		"unknown flag": {"-nope"},
		"bad upstream": {"-upstream", "u.test", "-issuer", "https://a.test", "-jwks-url", "https://a.test/jwks", "-addr", "127.0.0.1:0"},
		"bad listen":   {"-upstream", "http://u.test", "-issuer", "https://a.test", "-jwks-url", "https://a.test/jwks", "-addr", "256.0.0.1:1"},
	} {
		err := run(t.Context(), args, io.Discard)
		assert.Error(t, err, name)
		assert.False(t, errors.Is(err, flag.ErrHelp), name)
	}
}

// TestRun starts the gateway on a free port in front of a naive FHIR
// server, serves a request, and shuts down when the context ends.
func TestRun(t *testing.T) {
	fhir, err := naivefhir.Load(os.DirFS("../../testdata/fhir"))
	require.NoError(t, err)
	upstream := httptest.NewServer(fhir)
	defer upstream.Close()
	iss := smarttest.NewIssuer(t)

	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-upstream", upstream.URL, "-addr", "127.0.0.1:0",
			"-issuer", iss.URL, "-jwks-url", iss.JWKSURL(), "-audience", iss.Audience}, pw)
		_ = pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var baseURL string
	for baseURL == "" && lines.Scan() {
		var entry map[string]any
		require.NoError(t, json.Unmarshal(lines.Bytes(), &entry), lines.Text())
		if entry["msg"] == "listening" {
			baseURL, _ = entry["base_url"].(string)
		}
	}
	require.NotEmpty(t, baseURL)
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/Patient/783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+iss.Token(smarttest.Claims{Patient: "783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3", Scope: "patient/Patient.rs"}))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"family":"Ebert"`)

	cancel()
	require.NoError(t, <-done)
}
