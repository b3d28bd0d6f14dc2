package authserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// seedExchange is the reference refresh exchange of a SMART launcher,
// testdata/seed_refresh_exchange.txt.
type seedExchange struct {
	authorization string         // the Authorization header value
	form          string         // the request body
	refreshToken  string         // the presented refresh token
	response      map[string]any // the response body
}

func loadSeed(t *testing.T) seedExchange {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/seed_refresh_exchange.txt")
	require.NoError(t, err)
	text := string(raw)
	var s seedExchange
	m := regexp.MustCompile(`-H 'Authorization: ([^']+)'`).FindStringSubmatch(text)
	require.NotNil(t, m)
	s.authorization = m[1]
	m = regexp.MustCompile(`--data '([^']+)'`).FindStringSubmatch(text)
	require.NotNil(t, m)
	s.form = m[1]
	m = regexp.MustCompile(`refresh_token=([^&]+)`).FindStringSubmatch(s.form)
	require.NotNil(t, m)
	s.refreshToken = m[1]
	start := strings.Index(text, "\n{")
	end := strings.LastIndex(text, "}")
	require.Positive(t, start)
	require.NoError(t, json.Unmarshal([]byte(text[start+1:end+1]), &s.response))
	return s
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return "?"
}

// TestSeedRefreshExchange replays the seed's request shape against a grant
// made with the seed's refresh-token value (an opaque string to us), scope
// and launch context, and compares the response shape with the seed's.
func TestSeedRefreshExchange(t *testing.T) {
	seed := loadSeed(t)
	user, pass, ok := (&http.Request{Header: http.Header{"Authorization": {seed.authorization}}}).BasicAuth()
	require.True(t, ok)
	require.Equal(t, "my-app", user)
	require.Equal(t, "my-app-secret-123", pass)

	seedIDToken := jwtPart(t, seed.response["id_token"].(string), 1)
	banner := seed.response["need_patient_banner"].(bool)
	newSeedEnv := func(t *testing.T) *env {
		e := newEnv(t, nil)
		_, _, err := e.h.CreateGrant(context.Background(), authserver.NewGrant{
			ClientID:     "my-app",
			Subject:      seedIDToken["sub"].(string),
			FHIRUser:     "Practitioner/SMART-1234",
			Scope:        seed.response["scope"].(string),
			RefreshToken: seed.refreshToken,
			Launch: authserver.Launch{
				Patient:           seed.response["patient"].(string),
				Encounter:         seed.response["encounter"].(string),
				NeedPatientBanner: &banner,
				SmartStyleURL:     seed.response["smart_style_url"].(string),
			},
		})
		require.NoError(t, err)
		return e
	}
	send := func(e *env, authorization string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "https://auth.example.org/token", strings.NewReader(seed.form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", authorization)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return rec
	}

	t.Run("same shape as the seed", func(t *testing.T) {
		e := newSeedEnv(t)
		rec := send(e, seed.authorization)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assertTokenResponseHeaders(t, rec)

		var got map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
		gotTypes, seedTypes := map[string]string{}, map[string]string{}
		for k, v := range got {
			gotTypes[k] = jsonType(v)
		}
		for k, v := range seed.response {
			seedTypes[k] = jsonType(v)
		}
		assert.Equal(t, seedTypes, gotTypes, "field names and JSON types")

		assert.True(t, strings.EqualFold(seed.response["token_type"].(string), got["token_type"].(string)),
			"token_type is case-insensitive (RFC 6749 §7.1)")
		assert.Equal(t, "Bearer", got["token_type"])
		for _, k := range []string{"scope", "expires_in", "patient", "encounter", "need_patient_banner", "smart_style_url"} {
			assert.Equal(t, seed.response[k], got[k], k)
		}
		assert.NotEqual(t, seed.refreshToken, got["refresh_token"], "the refresh token is rotated")

		idt := jwtPart(t, got["id_token"].(string), 1)
		for claim := range seedIDToken {
			assert.Contains(t, idt, claim)
		}
		assert.Equal(t, seedIDToken["profile"], idt["profile"])
		assert.Equal(t, seedIDToken["sub"], idt["sub"])
		assert.Equal(t, "Practitioner/SMART-1234", idt["fhirUser"])
		assert.Equal(t, "my-app", idt["aud"])

		at := jwtPart(t, got["access_token"].(string), 1)
		assert.Equal(t, "783a1f02-5bf9-41c9-90d0-c2c4d35d3ec3", at["patient"])
		assert.Equal(t, true, at["need_patient_banner"])
		assert.Equal(t, "my-app", at["client_id"])

		// The seed's token has been consumed: once its successor is used
		// too, presenting it again is reuse.
		rec = e.post(refreshForm(got["refresh_token"].(string)), header("Authorization", seed.authorization))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		rec = send(e, seed.authorization)
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Equal(t, bodyInvalidGrant, rec.Body.String())
	})

	t.Run("wrong secret", func(t *testing.T) {
		e := newSeedEnv(t)
		rec := send(e, "Basic "+base64.StdEncoding.EncodeToString([]byte("my-app:not-the-secret")))
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, authserver.CodeInvalidClient, errorCode(t, rec))
		assert.Equal(t, `Basic realm="token", charset="UTF-8"`, rec.Header().Get("WWW-Authenticate"))
		// The token is still usable with the right secret.
		assert.Equal(t, http.StatusOK, send(e, seed.authorization).Code)
	})
}
