package middleware

import (
	"bufio"
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The SMART launcher fixture: testdata/launcher_access_token.jwt is the
// access_token of the refresh response in testdata/seed_refresh_exchange.txt
// (launch.smarthealthit.org, 2018). It is HS256-signed with the launcher's
// secret, which we do not know, and it has neither iss nor aud.
//
// JWTVerifier requires iss and aud (RFC 9068 §2.2, and SMART's aud is how a
// resource server knows a token is meant for it), so a token like this one
// is rejected with ErrBadIssuer even when its signature verifies. There is
// no option to skip those checks: for such a legacy authorization server,
// use token introspection (NewIntrospectionVerifier) or a VerifierFunc.
// The tests below show that the launcher's claims are read correctly, and
// that the same header and payload with iss and aud added, signed with a
// key the verifier trusts, verify.

const (
	launcherIssuer   = "http://launch.smarthealthit.org" // iss of the exchange's id_token
	launcherAudience = "http://launch.smarthealthit.org/v/r2/sim/eyJoIjoiMSIsImoiOiIxIn0/fhir"
	launcherScopes   = "openid profile offline_access online_access user/*.* patient/*.* launch/encounter launch/patient"
)

// launcherTestKey stands in for the launcher's unknown HMAC secret.
var launcherTestKey = []byte("smartauth-test-key-standing-in-for-the-launcher")

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

func launcherConfig(now time.Time) JWTConfig {
	return JWTConfig{
		Algorithms: []string{"HS256"},
		StaticKeys: map[string]crypto.PublicKey{"": launcherTestKey}, // the header has no kid
		Issuers:    []string{launcherIssuer},
		Audience:   launcherAudience,
		Now:        func() time.Time { return now },
	}
}

func assertLauncherContext(t *testing.T, lc *LaunchContext) {
	t.Helper()
	assert.Equal(t, "783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3", lc.Patient)
	assert.Equal(t, "41e27bbf-e5c2-4261-9f67-ca4676273959", lc.Encounter)
	assert.True(t, lc.NeedPatientBanner)
	assert.Equal(t, "https://launch.smarthealthit.org/smart-style.json", lc.SmartStyleURL)
	assert.Equal(t, time.Unix(1529674578, 0).UTC(), lc.IssuedAt)
	assert.Equal(t, time.Unix(1529678178, 0).UTC(), lc.ExpiresAt)
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

	lc, err := launchContextFromClaims(claims, ClaimNames{})
	require.NoError(t, err)
	assertLauncherContext(t, lc)
	assert.Empty(t, lc.Issuer)
	assert.Empty(t, lc.Audience)
}

func TestLauncherFixtureVerify(t *testing.T) {
	original, header, payload := launcherToken(t)
	date := launcherResponseDate(t)
	require.Equal(t, time.Date(2018, 6, 22, 13, 36, 18, 0, time.UTC), date.UTC())

	// The fixture's exact header and payload bytes, with iss and aud added
	// at the start of the payload object.
	require.True(t, bytes.HasPrefix(payload, []byte("{")))
	added, err := json.Marshal(map[string]string{"iss": launcherIssuer, "aud": launcherAudience})
	require.NoError(t, err)
	withIssAud := string(added[:len(added)-1]) + "," + string(payload[1:])
	resigned := handSign(t, "HS256", string(header), withIssAud, launcherTestKey)
	exactResigned := handSign(t, "HS256", string(header), string(payload), launcherTestKey)

	tests := []struct {
		name    string
		token   string
		now     time.Time
		wantErr error
	}{
		{"re-signed with iss and aud, at the response's Date", resigned, date, nil},
		{"re-signed, one second before exp", resigned, time.Unix(1529678177, 0), nil},
		{"re-signed, at exp", resigned, time.Unix(1529678178, 0), ErrTokenExpired},
		{"re-signed, after exp", resigned, time.Unix(1529678178, 0).Add(time.Hour), ErrTokenExpired},
		{"re-signed, before iat", resigned, time.Unix(1529674578, 0).Add(-time.Second), ErrTokenNotYetValid},
		{"exact payload re-signed: no iss", exactResigned, date, ErrBadIssuer},
		{"original fixture: unknown secret", original, date, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, launcherConfig(tt.now))
			lc, err := v.VerifyToken(t.Context(), tt.token)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assertNoLeak(t, err, "783a1f02", "41e27bbf", tt.token[40:80])
				return
			}
			require.NoError(t, err)
			assertLauncherContext(t, lc)
			assert.Equal(t, launcherIssuer, lc.Issuer)
			assert.Equal(t, []string{launcherAudience}, lc.Audience)
		})
	}
}
