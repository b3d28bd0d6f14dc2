package demo

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// demoPair is two demo instances behind one public base URL (as behind a
// load balancer), sharing a key set file and a store, served in-process.
type demoPair struct {
	t       *testing.T
	path    string
	clock   *testClock
	a, b    *Server
	refresh string // the seed grant's current refresh token
}

// writeKeys replaces the key set file.
func (p *demoPair) writeKeys(keys ...authserver.ManagedKey) {
	p.t.Helper()
	doc, err := authserver.MarshalKeySet(keys)
	require.NoError(p.t, err)
	tmp := p.path + ".tmp"
	require.NoError(p.t, os.WriteFile(tmp, doc, 0o600))
	require.NoError(p.t, os.Rename(tmp, p.path))
}

func newDemoPair(t *testing.T, keys ...authserver.ManagedKey) *demoPair {
	p := &demoPair{t: t, path: filepath.Join(t.TempDir(), "signing-keys.json"), clock: &testClock{}}
	p.writeKeys(keys...)
	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	start := func() *Server {
		cfg, err := LoadConfig("../../../testdata/demo-config.json")
		require.NoError(t, err)
		p.refresh = cfg.Grants[0].RefreshToken
		srv, err := New(t.Context(), Options{
			BaseURL:         "http://localhost:8080",
			Config:          cfg,
			Data:            os.DirFS("../../../testdata/fhir"),
			Store:           store,
			SigningKeysFile: p.path,
			Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
			Now:             p.clock.now,
		})
		require.NoError(t, err)
		return srv
	}
	p.a, p.b = start(), start()
	return p
}

// token refreshes the seed grant at srv and returns the access token and
// the kid it is signed with.
func (p *demoPair) token(srv *Server) (string, string) {
	t := p.t
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {p.refresh}}
	req := httptest.NewRequest(http.MethodPost, srv.TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", seedBasic)
	rec := httptest.NewRecorder()
	srv.Handler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var resp struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	p.refresh = resp.RefreshToken
	header, err := base64.RawURLEncoding.DecodeString(resp.AccessToken[:strings.IndexByte(resp.AccessToken, '.')])
	require.NoError(t, err)
	var h struct{ Kid string }
	require.NoError(t, json.Unmarshal(header, &h))
	return resp.AccessToken, h.Kid
}

// read reads the seed patient at srv with token and returns the status.
func (p *demoPair) read(srv *Server, token string) int {
	req := httptest.NewRequest(http.MethodGet, srv.FHIRBaseURL+"/Patient/"+seedPatient, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	srv.Handler.ServeHTTP(rec, req)
	return rec.Code
}

func generateKey(t *testing.T, alg, kid string) authserver.SigningKey {
	k, err := authserver.GenerateSigningKey(alg)
	require.NoError(t, err)
	k.ID = kid
	return k
}

// TestDemoInstancesShareSigningKeys: two demo instances started with one
// -signing-keys file and one store accept each other's access tokens on
// their FHIR routes; refreshes alternate between them; rotating the active
// key through the procedure, each instance reloading at its own moment,
// breaks no token; a key removed from the file stops its tokens.
func TestDemoInstancesShareSigningKeys(t *testing.T) {
	june, september := generateKey(t, "ES256", "2025-06"), generateKey(t, "ES256", "2025-09")
	p := newDemoPair(t, authserver.ManagedKey{SigningKey: june, Status: authserver.KeyActive})
	active := authserver.ManagedKey{SigningKey: june, Status: authserver.KeyActive}
	var tokens []string
	mint := func(srv *Server, wantKID string) {
		t.Helper()
		tok, kid := p.token(srv)
		require.Equal(t, wantKID, kid)
		tokens = append(tokens, tok)
	}
	acceptedEverywhere := func(step string) {
		t.Helper()
		for i, tok := range tokens {
			assert.Equal(t, http.StatusOK, p.read(p.a, tok), "%s: token %d at A", step, i)
			assert.Equal(t, http.StatusOK, p.read(p.b, tok), "%s: token %d at B", step, i)
		}
	}

	mint(p.a, "2025-06")
	mint(p.b, "2025-06")
	acceptedEverywhere("one key")

	// 1. Publish the next key; B reloads later than A.
	p.writeKeys(active, authserver.ManagedKey{SigningKey: september, Status: authserver.KeyNext})
	require.NoError(t, p.a.Keys.ReloadFile(p.path))
	mint(p.a, "2025-06")
	acceptedEverywhere("1, A reloaded")
	require.NoError(t, p.b.Keys.ReloadFile(p.path))
	acceptedEverywhere("1, both reloaded")

	// 2. Activate it; the old key is retired until its tokens expired.
	p.clock.advance(authserver.JWKSMaxAge + authserver.DefaultKeySetWatchInterval)
	retire := p.clock.now().Add(authserver.DefaultKeySetWatchInterval + time.Hour + time.Minute)
	p.writeKeys(authserver.ManagedKey{SigningKey: september, Status: authserver.KeyActive},
		authserver.ManagedKey{SigningKey: june, Status: authserver.KeyRetired, RetireAfter: retire})
	require.NoError(t, p.a.Keys.ReloadFile(p.path))
	mint(p.a, "2025-09")
	acceptedEverywhere("2, A reloaded")
	require.NoError(t, p.b.Keys.ReloadFile(p.path))
	mint(p.b, "2025-09")
	acceptedEverywhere("2, both reloaded")

	// Removed before its time (compromised): its tokens are refused.
	june1 := tokens[0]
	p.writeKeys(authserver.ManagedKey{SigningKey: september, Status: authserver.KeyActive})
	require.NoError(t, p.a.Keys.ReloadFile(p.path))
	require.NoError(t, p.b.Keys.ReloadFile(p.path))
	assert.Equal(t, http.StatusUnauthorized, p.read(p.a, june1))
	assert.Equal(t, http.StatusUnauthorized, p.read(p.b, june1))
	assert.Equal(t, http.StatusOK, p.read(p.b, tokens[len(tokens)-1]))

	// The JWK Set of each instance publishes the one key left.
	for _, srv := range []*Server{p.a, p.b} {
		req := httptest.NewRequest(http.MethodGet, srv.JWKSURL, nil)
		rec := httptest.NewRecorder()
		srv.Handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Contains(t, rec.Body.String(), `"kid":"2025-09"`)
		assert.NotContains(t, rec.Body.String(), `"kid":"2025-06"`)
		assert.NotContains(t, rec.Body.String(), `"d":`)
	}
}

// TestDemoSigningKeysFileErrors: a bad key set file stops the start with
// an error that names the file and never the keys.
func TestDemoSigningKeysFileErrors(t *testing.T) {
	dir := t.TempDir()
	cfg, err := LoadConfig("../../../testdata/demo-config.json")
	require.NoError(t, err)
	key := generateKey(t, "ES256", "k")
	doc, err := authserver.MarshalKeySet([]authserver.ManagedKey{{SigningKey: key, Status: authserver.KeyActive}})
	require.NoError(t, err)
	noActive := filepath.Join(dir, "no-active.json")
	require.NoError(t, os.WriteFile(noActive, []byte(strings.Replace(string(doc), `"status": "active"`, `"status": "next"`, 1)), 0o600))
	readable := filepath.Join(dir, "readable.json")
	require.NoError(t, os.WriteFile(readable, doc, 0o600))
	require.NoError(t, os.Chmod(readable, 0o644))

	for path, want := range map[string]string{
		noActive: "demo: signing keys: authserver: invalid key set: no active key (file " + noActive + ")",
		readable: "demo: signing keys: authserver: invalid key set: " + readable + " has mode 0644: others may read it or its group may write it (chmod 600)",
	} {
		_, err := New(t.Context(), Options{
			BaseURL: "http://localhost:8080", Config: cfg, Data: os.DirFS("../../../testdata/fhir"),
			SigningKeysFile: path, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		assert.EqualError(t, err, want)
	}
}
