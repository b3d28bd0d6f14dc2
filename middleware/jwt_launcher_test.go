package middleware

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The SMART launcher fixture: testdata/launcher_access_token.jwt is the
// access_token of the refresh response in testdata/seed_refresh_exchange.txt
// (launch.smarthealthit.org, 2018). It has neither iss nor aud, and it is
// HS256-signed with the launcher's published default secret,
// "thisisasecret" — `jwtSecret: process.env.SECRET || "thisisasecret"` in
// src/config.js of smart-on-fhir/smart-launcher, the launcher of the time
// (smart-launcher-v2 defaults to "this is a secret"). TestLauncherSecret
// checks the fixture's signature against it. At 13 bytes the secret is
// shorter than RFC 7518 §3.2 allows for HS256 (32), which is one of the
// things InsecureLauncherCompat accepts.

const (
	launcherIssuer   = "http://launch.smarthealthit.org" // iss of the exchange's id_token
	launcherAudience = "http://launch.smarthealthit.org/v/r2/sim/eyJoIjoiMSIsImoiOiIxIn0/fhir"
	launcherScopes   = "openid profile offline_access online_access user/*.* patient/*.* launch/encounter launch/patient"
	// launcherSecret is the launcher's default HMAC secret.
	launcherSecret = "thisisasecret"
)

// launcherIat and launcherExp are the fixture's iat and exp.
var (
	launcherIat = time.Unix(1529674578, 0).UTC()
	launcherExp = time.Unix(1529678178, 0).UTC()
)

func launcherToken(t *testing.T) (token string, header, payload []byte) {
	t.Helper()
	raw, err := os.ReadFile("../testdata/launcher_access_token.jwt")
	require.NoError(t, err)
	token = strings.TrimSpace(string(raw))
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	header, err = base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	payload, err = base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	return token, header, payload
}

// launcherResponseDate is the Date header of the launcher's response.
func launcherResponseDate(t *testing.T) time.Time {
	t.Helper()
	f, err := os.Open("../testdata/seed_refresh_exchange.txt")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Date: "); ok {
			d, err := http.ParseTime(v)
			require.NoError(t, err)
			return d
		}
	}
	t.Fatal("no Date header in the exchange")
	return time.Time{}
}

// launcherConfig accepts the launcher's tokens at now: HS256 with its
// secret, no kid, InsecureLauncherCompat for the missing iss and aud.
func launcherConfig(now time.Time) JWTConfig {
	return JWTConfig{
		Algorithms:             []string{"HS256"},
		HMACSecrets:            map[string][]byte{"": []byte(launcherSecret)}, // the header has no kid
		Issuers:                []string{launcherIssuer},
		Audience:               launcherAudience,
		Now:                    func() time.Time { return now },
		InsecureLauncherCompat: true,
		Logger:                 slog.New(slog.DiscardHandler),
	}
}

func assertLauncherContext(t *testing.T, lc *LaunchContext) {
	t.Helper()
	assert.Equal(t, "783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3", lc.Patient)
	assert.Equal(t, "41e27bbf-e5c2-4261-9f67-ca4676273959", lc.Encounter)
	assert.True(t, lc.NeedPatientBanner)
	assert.Equal(t, "https://launch.smarthealthit.org/smart-style.json", lc.SmartStyleURL)
	assert.Equal(t, launcherIat, lc.IssuedAt)
	assert.Equal(t, launcherExp, lc.ExpiresAt)
	assert.Equal(t, launcherScopes, lc.Scopes.String())
	scopes := strings.Fields(launcherScopes)
	require.Len(t, scopes, 8)
	for _, s := range scopes {
		assert.True(t, lc.Scopes.Has(s), s)
	}
}

func TestLauncherFixtureClaims(t *testing.T) {
	_, header, payload := launcherToken(t)
	assert.JSONEq(t, `{"typ":"JWT","alg":"HS256"}`, string(header))
	claims := decodeClaimsJSON(t, string(payload))
	_, hasIss := claims["iss"]
	_, hasAud := claims["aud"]
	assert.False(t, hasIss || hasAud, "the fixture has no iss and no aud")

	lc, err := NewLaunchContext(claims, ClaimNames{})
	require.NoError(t, err)
	assertLauncherContext(t, lc)
	assert.Empty(t, lc.Issuer)
	assert.Empty(t, lc.Audience)
}

// TestLauncherSecret checks the fixture's signature against the
// launcher's default secret, independently of the verifier.
func TestLauncherSecret(t *testing.T) {
	token, _, _ := launcherToken(t)
	dot := strings.LastIndexByte(token, '.')
	mac := hmac.New(sha256.New, []byte(launcherSecret))
	mac.Write([]byte(token[:dot]))
	assert.Equal(t, token[dot+1:], base64.RawURLEncoding.EncodeToString(mac.Sum(nil)))
}

// TestLauncherTokenThroughAuthenticate sends the launcher's token through
// Authenticate with InsecureLauncherCompat, and checks what is refused.
func TestLauncherTokenThroughAuthenticate(t *testing.T) {
	original, header, payload := launcherToken(t)
	date := launcherResponseDate(t)
	require.Equal(t, launcherIat, date.UTC(), "the token was issued at the response's Date")

	// withClaims re-signs the fixture's header and payload with claims
	// added at the start of the payload object.
	withClaims := func(secret string, claims map[string]string) string {
		if len(claims) == 0 {
			return handSign(t, "HS256", string(header), string(payload), []byte(secret))
		}
		require.True(t, bytes.HasPrefix(payload, []byte("{")))
		added, err := json.Marshal(claims)
		require.NoError(t, err)
		return handSign(t, "HS256", string(header), string(added[:len(added)-1])+","+string(payload[1:]), []byte(secret))
	}

	tests := []struct {
		name       string
		token      string
		now        time.Time
		config     func(*JWTConfig)
		wantReason string // "": accepted
	}{
		{"at the response's Date", original, date, nil, ""},
		{"one second before exp", original, launcherExp.Add(-time.Second), nil, ""},
		{"at exp", original, launcherExp, nil, "expired"},
		{"an hour after exp", original, launcherExp.Add(time.Hour), nil, "expired"},
		{"before iat", original, launcherIat.Add(-time.Second), nil, "not_yet_valid"},
		{"wrong secret", original, date, func(c *JWTConfig) {
			c.HMACSecrets = map[string][]byte{"": []byte("thisisnotthesecret")}
		}, "bad_signature"},
		{"signed with the launcher-v2 default", withClaims("this is a secret", nil), date, nil, "bad_signature"},
		{"with the right iss and aud", withClaims(launcherSecret,
			map[string]string{"iss": launcherIssuer, "aud": launcherAudience}), date, nil, ""},
		{"a present iss is still checked", withClaims(launcherSecret, map[string]string{"iss": "https://evil.example"}), date, nil, "bad_issuer"},
		{"a present aud is still checked", withClaims(launcherSecret, map[string]string{"aud": "https://other.example/fhir"}), date, nil, "bad_audience"},
		{"without the opt-in, a 32-byte secret: no iss", withClaims("a-32-byte-stand-in-for-a-secret!", nil), date, func(c *JWTConfig) {
			c.InsecureLauncherCompat = false
			c.HMACSecrets = map[string][]byte{"": []byte("a-32-byte-stand-in-for-a-secret!")}
		}, "bad_issuer"},
		{"without the opt-in, a 32-byte secret: no aud", withClaims("a-32-byte-stand-in-for-a-secret!",
			map[string]string{"iss": launcherIssuer}), date, func(c *JWTConfig) {
			c.InsecureLauncherCompat = false
			c.HMACSecrets = map[string][]byte{"": []byte("a-32-byte-stand-in-for-a-secret!")}
		}, "bad_audience"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := launcherConfig(tt.now)
			if tt.config != nil {
				tt.config(&cfg)
			}
			v := newTestVerifier(t, cfg)
			var got *LaunchContext
			var reason string
			h := Authenticate(v, WithErrorHandler(func(w http.ResponseWriter, r *http.Request, ae *AuthError) {
				reason = ae.Reason
				DefaultErrorHandler(w, r, ae)
			}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = LaunchContextFrom(r.Context())
			}))
			for range 2 { // fresh, then from the cache
				got, reason = nil, ""
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, request{headers: bearer(tt.token)}.build())
				if tt.wantReason != "" {
					assert.Equal(t, http.StatusUnauthorized, rec.Code)
					assert.Equal(t, tt.wantReason, reason)
					assert.Nil(t, got)
					continue
				}
				require.Equal(t, http.StatusOK, rec.Code, reason)
				require.NotNil(t, got)
				assertLauncherContext(t, got)
				claims := got.Claims()
				assert.Equal(t, "bearer", claims["token_type"])
				assert.Equal(t, 3600.0, claims["expires_in"])
				if tt.token == original {
					assert.Equal(t, decodeClaimsJSON(t, string(payload)), claims, "every claim")
				}
			}
		})
	}
}

// TestLauncherCompatRequired: without InsecureLauncherCompat, the
// launcher's secret is refused at construction (too short for HS256), and
// HS256 must be listed even with it.
func TestLauncherCompatRequired(t *testing.T) {
	cfg := launcherConfig(launcherIat)
	cfg.InsecureLauncherCompat = false
	_, err := NewJWTVerifier(t.Context(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "RFC 7518 §3.2")
	assert.NotContains(t, err.Error(), launcherSecret)

	cfg = launcherConfig(launcherIat)
	cfg.Algorithms = nil // the default allow-list has no HMAC
	_, err = NewJWTVerifier(t.Context(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HS* algorithm")
}

// TestLauncherCompatWarns: the opt-in is logged once, at Warn, when the
// verifier is made; verifying logs nothing.
func TestLauncherCompatWarns(t *testing.T) {
	var buf bytes.Buffer
	cfg := launcherConfig(launcherIat)
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	v := newTestVerifier(t, cfg)
	token, _, _ := launcherToken(t)
	_, err := v.VerifyToken(t.Context(), token)
	require.NoError(t, err)
	_, err = v.VerifyToken(t.Context(), token+"x")
	require.Error(t, err)

	out := buf.String()
	assert.Equal(t, 1, strings.Count(out, "\n"), out)
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, "InsecureLauncherCompat")
	assert.NotContains(t, out, launcherSecret)
	assert.NotContains(t, out, token[:20])

	buf.Reset()
	cfg.InsecureLauncherCompat = false
	cfg.HMACSecrets = map[string][]byte{"": bytes.Repeat([]byte("k"), 32)}
	newTestVerifier(t, cfg)
	assert.Empty(t, buf.String(), "nothing without the opt-in")
}
