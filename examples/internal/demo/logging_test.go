package demo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoLogsRefusals: requests refused at the FHIR routes are logged
// (at Debug, the demo's default level) with their status and reason,
// never with the token.
func TestDemoLogsRefusals(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, _, _ := startDemoOpts(t, nil, Options{Logger: logger})
	_, tok := postForm(t, srv.TokenURL, seedBasic, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {srv.DemoGrant.RefreshToken}, "scope": {"launch/patient patient/*.rs"},
	})
	narrow := tok["access_token"].(string)
	const forged = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJl"

	tests := []struct {
		name, path, token string
		status            int
		level, msg        string
	}{
		{"no token", "/Patient/" + seedPatient, "", http.StatusUnauthorized, "DEBUG", "smartauth: request refused"},
		{"forged token", "/Patient/" + seedPatient, forged, http.StatusUnauthorized, "DEBUG", "smartauth: request refused"},
		{"metadata with a forged token", "/metadata", forged, http.StatusUnauthorized, "DEBUG", "smartauth: request refused"},
		{"another patient by path", "/Patient/" + otherPatient, narrow, http.StatusForbidden, "DEBUG", "smartauth: request refused"},
		{"another patient's data", "/Observation/obs-other-patient-1", narrow, http.StatusForbidden, "WARN", "smartauth: response withheld"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(logs.String())
			resp, _ := get(t, srv.FHIRBaseURL+tt.path, tt.token)
			require.Equal(t, tt.status, resp.StatusCode)
			lines := logLines(t, logs.String()[before:], tt.msg)
			require.Len(t, lines, 1, logs.String()[before:])
			assert.Equal(t, tt.level, lines[0]["level"])
			assert.NotEmpty(t, lines[0]["reason"])
		})
	}
	all := logs.String()
	for _, secret := range []string{narrow, forged, srv.DemoGrant.RefreshToken, tok["refresh_token"].(string)} {
		assert.NotContains(t, all, secret)
	}
}

// logLines returns the records of JSON log output with the message msg.
func logLines(t *testing.T, out, msg string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		if m["msg"] == msg {
			lines = append(lines, m)
		}
	}
	return lines
}
