package smartapp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/examples/smartapp"
)

func TestHandler(t *testing.T) {
	h, err := smartapp.Handler(smartapp.Config{ClientID: "sample-app", RedirectURI: "http://127.0.0.1:8081/", FHIRBaseURL: "http://127.0.0.1:8080/fhir"})
	require.NoError(t, err)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	rec := get("/?code=abc&state=xyz")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `<script src="app.js" defer></script>`)
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"))
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'self'")

	rec = get("/config.json")
	assert.JSONEq(t, `{"clientId":"sample-app","redirectUri":"http://127.0.0.1:8081/","fhirBaseUrl":"http://127.0.0.1:8080/fhir",
		"standaloneScope":"`+smartapp.DefaultStandaloneScope+`","ehrScope":"`+smartapp.DefaultEHRScope+`"}`, rec.Body.String())
	assert.Equal(t, http.StatusOK, get("/app.js").Code)
	assert.Equal(t, "text/javascript; charset=utf-8", get("/app.js").Header().Get("Content-Type"))
	assert.Equal(t, http.StatusNotFound, get("/static/app.js").Code)

	_, err = smartapp.Handler(smartapp.Config{ClientID: "a", RedirectURI: "http://127.0.0.1:8081/cb", FHIRBaseURL: "x"})
	assert.Error(t, err)
}
