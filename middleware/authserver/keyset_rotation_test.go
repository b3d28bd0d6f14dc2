package authserver_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// rotationCluster is several instances of an authorization server with its
// FHIR routes, sharing one key set file and one token store, on one test
// clock.
type rotationCluster struct {
	t         *testing.T
	clock     *clock
	store     tokenstore.Store
	path      string
	instances []*rotationInstance
	minted    []mintedToken
}

// rotationInstance is one instance: its keys (loaded from the shared
// file), token endpoint and FHIR route (Authenticate with the verifier of
// its own keys).
type rotationInstance struct {
	name   string
	keys   *authserver.KeySet
	tokens *authserver.TokenHandler
	route  http.Handler
}

// mintedToken is an access token and what the test knows of it.
type mintedToken struct {
	token, by, kid string
	exp            time.Time
}

func newRotationCluster(t *testing.T, keys ...authserver.ManagedKey) *rotationCluster {
	rc := &rotationCluster{
		t: t, clock: &clock{t: testStart},
		store: tokenstore.NewMemoryStore(tokenstore.MemoryOptions{}),
		path:  filepath.Join(t.TempDir(), "signing-keys.json"),
	}
	rc.write(keys...)
	return rc
}

// write replaces the key set file.
func (rc *rotationCluster) write(keys ...authserver.ManagedKey) {
	rc.t.Helper()
	tmp := rc.path + ".tmp"
	require.NoError(rc.t, os.WriteFile(tmp, marshalKeys(rc.t, keys...), 0o600))
	require.NoError(rc.t, os.Rename(tmp, rc.path))
}

// start starts an instance from the current file.
func (rc *rotationCluster) start(name string) *rotationInstance {
	t := rc.t
	ks, err := authserver.LoadKeySetFile(rc.path, authserver.WithKeySetClock(rc.clock.Now),
		authserver.WithKeySetLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	tokens, err := authserver.NewTokenHandler(authserver.TokenConfig{
		Issuer: testIssuer, Audience: testAudience, Store: rc.store,
		Clients: testClients(t, rc.store, rc.clock.Now), Keys: ks,
		Audit:  func(context.Context, authserver.AuditEvent) {},
		Logger: slog.New(slog.DiscardHandler),
		Now:    rc.clock.Now,
	})
	require.NoError(t, err)
	v, err := ks.AccessTokenVerifier(middleware.JWTConfig{Issuers: []string{testIssuer}, Audience: testAudience, Now: rc.clock.Now})
	require.NoError(t, err)
	auth := middleware.Authenticate(v, middleware.WithRevocationCheck(rc.store, 0), middleware.WithRevocationClock(rc.clock.Now))
	inst := &rotationInstance{name: name, keys: ks, tokens: tokens, route: auth(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))}
	rc.instances = append(rc.instances, inst)
	return inst
}

// reload makes inst read the key set file, as its WatchFile would.
func (rc *rotationCluster) reload(inst *rotationInstance) {
	rc.t.Helper()
	require.NoError(rc.t, inst.keys.ReloadFile(rc.path), inst.name)
}

// mint has inst issue an access token (a new grant, refreshed there) and
// requires it to be signed with the key wantKID.
func (rc *rotationCluster) mint(inst *rotationInstance, wantKID string) {
	t := rc.t
	t.Helper()
	rt, _, err := inst.tokens.CreateGrant(context.Background(), authserver.NewGrant{
		ClientID: clientA, Subject: "user-1", Scope: testScope, Launch: testLaunch(),
	})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(refreshForm(rt)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	basic(clientA, clientASecret)(req)
	rec := httptest.NewRecorder()
	inst.tokens.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	at := decodeTokenResponse(t, rec).AccessToken
	kid, _ := jwtPart(t, at, 0)["kid"].(string)
	require.Equal(t, wantKID, kid, "%s signs with", inst.name)
	exp, _ := jwtPart(t, at, 1)["exp"].(float64)
	rc.minted = append(rc.minted, mintedToken{token: at, by: inst.name, kid: kid, exp: time.Unix(int64(exp), 0)})
}

// checkAll requires every token minted so far to be accepted by every
// instance's FHIR route while it has not expired, and refused after.
func (rc *rotationCluster) checkAll(step string) {
	t := rc.t
	t.Helper()
	now := rc.clock.Now()
	for _, m := range rc.minted {
		want := http.StatusOK
		if !now.Before(m.exp) {
			want = http.StatusUnauthorized
		}
		for _, inst := range rc.instances {
			assert.Equal(t, want, rc.call(inst, m.token),
				"%s: token of %s signed with %s, exp %v, at %s", step, m.by, m.kid, m.exp.Sub(now), inst.name)
		}
	}
}

func (rc *rotationCluster) call(inst *rotationInstance, token string) int {
	req := httptest.NewRequest(http.MethodGet, testAudience+"/Patient/pat-123", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	inst.route.ServeHTTP(rec, req)
	return rec.Code
}

// requireJWKS requires each instance to publish exactly kids.
func (rc *rotationCluster) requireJWKS(kids ...string) {
	rc.t.Helper()
	for _, inst := range rc.instances {
		assert.Equal(rc.t, kids, jwksKIDs(rc.t, inst.keys), inst.name)
	}
}

// TestRotationAcrossInstances follows the rotation procedure of
// KeySet.SetKeys with two instances sharing one key set file and one
// store, each reloading the file at its own moment: at every point, every
// access token that has not expired — whichever instance issued it, with
// whichever key — is accepted by the FHIR routes of both instances.
func TestRotationAcrossInstances(t *testing.T) {
	const watchInterval = 10 * time.Second
	old, next := withID(testKey(t, "ES256"), "2025-06"), withID(testKey(t, "EdDSA"), "2025-09")
	rc := newRotationCluster(t, managed(old, authserver.KeyActive, time.Time{}))
	a, b := rc.start("A"), rc.start("B")

	// Before: both sign with the old key and accept each other's tokens.
	rc.mint(a, "2025-06")
	rc.mint(b, "2025-06")
	rc.checkAll("start")
	rc.requireJWKS("2025-06")

	// 1. Publish the next key. A reloads first.
	rc.write(managed(old, authserver.KeyActive, time.Time{}), managed(next, authserver.KeyNext, time.Time{}))
	rc.reload(a)
	rc.mint(a, "2025-06")
	rc.mint(b, "2025-06")
	rc.checkAll("1, A reloaded")
	assert.Equal(t, []string{"2025-06", "2025-09"}, jwksKIDs(t, a.keys))
	rc.clock.Advance(watchInterval)
	rc.reload(b)
	rc.checkAll("1, both reloaded")
	rc.requireJWKS("2025-06", "2025-09")

	// 2. Once every instance publishes it and JWK Set caches have
	// expired: activate it, retire the old key until its last token has
	// expired. B reloads an interval later than A, and signs with the old
	// key meanwhile.
	rc.clock.Advance(authserver.JWKSMaxAge)
	retireAfter := rc.clock.Now().Add(watchInterval + authserver.DefaultAccessTokenLifetime + time.Minute)
	rc.write(managed(next, authserver.KeyActive, time.Time{}), managed(old, authserver.KeyRetired, retireAfter))
	rc.reload(a)
	rc.mint(a, "2025-09")
	rc.mint(b, "2025-06")
	rc.checkAll("2, A reloaded")
	rc.clock.Advance(watchInterval)
	rc.mint(b, "2025-06") // the last token of the old key
	rc.reload(b)
	rc.mint(b, "2025-09")
	rc.checkAll("2, both reloaded")
	rc.requireJWKS("2025-09", "2025-06")

	// 3. Wait: the old key's tokens live to the end; then the key goes by
	// itself, no reload needed.
	rc.clock.Advance(authserver.DefaultAccessTokenLifetime - time.Second)
	rc.checkAll("3, the old key's last token about to expire")
	rc.requireJWKS("2025-09", "2025-06")
	rc.clock.Advance(time.Second)
	rc.checkAll("3, the old key's tokens expired")
	rc.clock.Advance(time.Minute)
	rc.requireJWKS("2025-09")
	rc.checkAll("3, past retire_after")

	// 4. Remove it from the file.
	rc.write(managed(next, authserver.KeyActive, time.Time{}))
	rc.reload(a)
	rc.reload(b)
	rc.mint(a, "2025-09")
	rc.mint(b, "2025-09")
	rc.checkAll("4")
	rc.requireJWKS("2025-09")
}

// TestRotationRemovedKeyRefused: a key removed from the file before its
// time (a compromised key) stops its tokens on each instance as soon as
// it reloads, although they have not expired.
func TestRotationRemovedKeyRefused(t *testing.T) {
	next, err := authserver.GenerateSigningKey("ES256")
	require.NoError(t, err)
	old, next := withID(testKey(t, "ES256"), "old"), withID(next, "new")
	rc := newRotationCluster(t, managed(old, authserver.KeyActive, time.Time{}), managed(next, authserver.KeyNext, time.Time{}))
	a, b := rc.start("A"), rc.start("B")
	rc.mint(a, "old")
	stolen := rc.minted[0].token

	rc.write(managed(next, authserver.KeyActive, time.Time{}), managed(old, authserver.KeyRetired, testStart.Add(24*time.Hour)))
	rc.reload(a)
	rc.reload(b)
	rc.mint(b, "new")
	rc.checkAll("old key retired")

	rc.write(managed(next, authserver.KeyActive, time.Time{}))
	rc.reload(a)
	assert.Equal(t, http.StatusUnauthorized, rc.call(a, stolen), "A reloaded")
	assert.Equal(t, http.StatusOK, rc.call(b, stolen), "B has not reloaded yet")
	rc.reload(b)
	assert.Equal(t, http.StatusUnauthorized, rc.call(b, stolen), "B reloaded")
	rc.requireJWKS("new")

	v, err := b.keys.AccessTokenVerifier(keySetVerifierConfig(rc.clock.Now))
	require.NoError(t, err)
	_, err = v.VerifyToken(context.Background(), stolen)
	require.ErrorIs(t, err, middleware.ErrUnknownKey)
	assert.Equal(t, http.StatusOK, rc.call(a, rc.minted[1].token), "the new key's token")
}
