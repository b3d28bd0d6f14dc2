package authserver

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthenticateSecretsAndPublic(t *testing.T) {
	f := newCAFixture(t)
	type want struct {
		status    int
		code      string
		challenge bool
		cause     error
	}
	unauthorized := func(challenge bool, cause error) *want {
		return &want{http.StatusUnauthorized, CodeInvalidClient, challenge, cause}
	}
	badRequest := &want{http.StatusBadRequest, CodeInvalidRequest, false, nil}
	tests := []struct {
		name   string
		authz  []string
		form   url.Values
		wantID string
		want   *want
	}{
		// client_secret_basic
		{name: "basic ok", authz: []string{caEncodedBasic(caBasicID, caBasicSecret)}, wantID: caBasicID},
		{name: "basic scheme case-insensitive", authz: []string{"bAsIc " + caEncodedBasic(caBasicID, caBasicSecret)[6:]}, wantID: caBasicID},
		{name: "basic extra spaces", authz: []string{"Basic   " + caEncodedBasic(caBasicID, caBasicSecret)[6:] + " "}, wantID: caBasicID},
		{name: "basic special characters encoded", authz: []string{caBasic("id%3Awith%2Bplus%25", "a%3Ab%2Bc%25d")}, wantID: caSpecialID},
		{name: "basic special characters QueryEscape", authz: []string{caEncodedBasic(caSpecialID, caSpecialSec)}, wantID: caSpecialID},
		{name: "basic not encoded, not decodable", authz: []string{caBasic(caRawID, caRawSecret)}, wantID: caRawID},
		// One reading of the secret (RFC 6749 §2.3.1): a secret that is
		// valid form encoding is decoded, and the raw value is not tried.
		{name: "basic not encoded, secret decodes to something else", authz: []string{caBasic(caPlusSecretID, caPlusSecret)}, want: unauthorized(true, errWrongClientSecret)},
		{name: "basic encoded, secret with + and %", authz: []string{caEncodedBasic(caPlusSecretID, caPlusSecret)}, wantID: caPlusSecretID},
		{name: "basic with matching client_id", authz: []string{caEncodedBasic(caBasicID, caBasicSecret)}, form: url.Values{"client_id": {caBasicID}}, wantID: caBasicID},
		{name: "basic with other client_id", authz: []string{caEncodedBasic(caBasicID, caBasicSecret)}, form: url.Values{"client_id": {caPostID}}, want: unauthorized(true, errClientIDMismatch)},
		{name: "basic wrong secret", authz: []string{caEncodedBasic(caBasicID, "wrong")}, want: unauthorized(true, errWrongClientSecret)},
		{name: "basic empty secret", authz: []string{caBasic(caBasicID, "")}, want: unauthorized(true, errWrongClientSecret)},
		{name: "basic secret of another client", authz: []string{caEncodedBasic(caBasicID, caPostSecret)}, want: unauthorized(true, errWrongClientSecret)},
		{name: "basic raw colon in client_id cannot work", authz: []string{caBasic(caSpecialID, caSpecialSec)}, want: unauthorized(true, ErrUnknownClient)},
		{name: "basic unknown client", authz: []string{caEncodedBasic("nobody", caBasicSecret)}, want: unauthorized(true, ErrUnknownClient)},
		// RFC 6749 §2.3.1: Basic is supported for every client issued a
		// secret, whatever it registered.
		{name: "basic by post client", authz: []string{caEncodedBasic(caPostID, caPostSecret)}, wantID: caPostID},
		{name: "basic by post client, pbkdf2", authz: []string{caEncodedBasic(caPBKDF2ID, caPBKDF2Secret)}, wantID: caPBKDF2ID},
		{name: "basic by post client, wrong secret", authz: []string{caEncodedBasic(caPostID, caBasicSecret)}, want: unauthorized(true, errWrongClientSecret)},
		{name: "basic by post client with matching client_id", authz: []string{caEncodedBasic(caPostID, caPostSecret)}, form: url.Values{"client_id": {caPostID}}, wantID: caPostID},
		{name: "basic by post client and client_secret", authz: []string{caEncodedBasic(caPostID, caPostSecret)}, form: url.Values{"client_id": {caPostID}, "client_secret": {caPostSecret}}, want: badRequest},
		{name: "basic by public client", authz: []string{caEncodedBasic(caPublicID, "x")}, want: unauthorized(true, errWrongClientMethod)},
		{name: "basic by jwt client", authz: []string{caEncodedBasic(caJWTID, "x")}, want: unauthorized(true, errWrongClientMethod)},
		{name: "basic bad base64", authz: []string{"Basic !!!"}, want: unauthorized(true, errMalformedBasic)},
		{name: "basic no colon", authz: []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(caBasicID))}, want: unauthorized(true, errMalformedBasic)},
		{name: "basic empty client_id", authz: []string{caBasic("", caBasicSecret)}, want: unauthorized(true, errMalformedBasic)},
		{name: "basic scheme only", authz: []string{"Basic"}, want: unauthorized(true, errMalformedBasic)},
		{name: "basic empty header", authz: []string{""}, want: unauthorized(true, errMalformedBasic)},
		{name: "bearer scheme", authz: []string{"Bearer abc"}, want: unauthorized(true, errMalformedBasic)},
		{name: "two Authorization headers", authz: []string{caEncodedBasic(caBasicID, caBasicSecret), caEncodedBasic(caBasicID, caBasicSecret)}, want: badRequest},
		{name: "basic and client_secret", authz: []string{caEncodedBasic(caBasicID, caBasicSecret)}, form: url.Values{"client_secret": {caBasicSecret}}, want: badRequest},
		{name: "basic and client_assertion", authz: []string{caEncodedBasic(caBasicID, caBasicSecret)}, form: caAssertionForm("x.y.z"), want: badRequest},
		{name: "basic and client_assertion_type only", authz: []string{caEncodedBasic(caBasicID, caBasicSecret)}, form: url.Values{"client_assertion_type": {ClientAssertionTypeJWTBearer}}, want: badRequest},

		// client_secret_post
		{name: "post ok", form: url.Values{"client_id": {caPostID}, "client_secret": {caPostSecret}}, wantID: caPostID},
		{name: "post pbkdf2 ok", form: url.Values{"client_id": {caPBKDF2ID}, "client_secret": {caPBKDF2Secret}}, wantID: caPBKDF2ID},
		{name: "post pbkdf2 wrong", form: url.Values{"client_id": {caPBKDF2ID}, "client_secret": {"Tr0ub4dor&3"}}, want: unauthorized(false, errWrongClientSecret)},
		{name: "post wrong secret", form: url.Values{"client_id": {caPostID}, "client_secret": {"wrong"}}, want: unauthorized(false, errWrongClientSecret)},
		// The body is for client_secret_post clients only.
		{name: "post by basic client", form: url.Values{"client_id": {caBasicID}, "client_secret": {caBasicSecret}}, want: unauthorized(false, errWrongClientMethod)},
		{name: "post by jwt client", form: url.Values{"client_id": {caJWTID}, "client_secret": {"x"}}, want: unauthorized(false, errWrongClientMethod)},
		{name: "post without client_id", form: url.Values{"client_secret": {caPostSecret}}, want: unauthorized(false, errNoClientCredentials)},
		{name: "post unknown client", form: url.Values{"client_id": {"nobody"}, "client_secret": {caPostSecret}}, want: unauthorized(false, ErrUnknownClient)},
		{name: "post and client_assertion", form: caAssertionForm("x.y.z", "client_id", caPostID, "client_secret", caPostSecret), want: badRequest},
		{name: "repeated client_secret", form: url.Values{"client_id": {caPostID}, "client_secret": {caPostSecret, caPostSecret}}, want: badRequest},
		{name: "repeated client_id", form: url.Values{"client_id": {caPublicID, caPublicID}}, want: badRequest},

		// public clients and missing credentials
		{name: "public ok", form: url.Values{"client_id": {caPublicID}}, wantID: caPublicID},
		{name: "public with empty client_secret", form: url.Values{"client_id": {caPublicID}, "client_secret": {""}}, wantID: caPublicID},
		{name: "public client sending a secret", form: url.Values{"client_id": {caPublicID}, "client_secret": {"anything"}}, want: unauthorized(false, errWrongClientMethod)},
		{name: "public unknown", form: url.Values{"client_id": {"nobody"}}, want: unauthorized(false, ErrUnknownClient)},
		{name: "confidential client without credentials", form: url.Values{"client_id": {caBasicID}}, want: unauthorized(false, errNoClientCredentials)},
		{name: "jwt client without assertion", form: url.Values{"client_id": {caJWTID}}, want: unauthorized(false, errNoClientCredentials)},
		{name: "nothing at all", form: url.Values{}, want: unauthorized(false, errNoClientCredentials)},
		{name: "nil form", want: unauthorized(false, errNoClientCredentials)},

		// client_assertion parameters
		{name: "assertion without type", form: url.Values{"client_assertion": {"x.y.z"}}, want: badRequest},
		{name: "type without assertion", form: url.Values{"client_assertion_type": {ClientAssertionTypeJWTBearer}}, want: badRequest},
		{name: "unsupported assertion type", form: url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:saml2-bearer"}, "client_assertion": {"x"}}, want: unauthorized(false, errUnsupportedAssertionType)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.authenticate(tt.authz, tt.form)
			if tt.want != nil {
				requireAuthError(t, err, tt.want.status, tt.want.code, tt.want.challenge, tt.want.cause)
				assert.Nil(t, c)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, c)
			assert.Equal(t, tt.wantID, c.ID)
		})
	}
}

func TestAuthenticateBadRequestDescriptions(t *testing.T) {
	f := newCAFixture(t)
	tests := []struct {
		name  string
		authz []string
		form  url.Values
		want  string
	}{
		{"two methods", []string{caEncodedBasic(caBasicID, caBasicSecret)}, url.Values{"client_secret": {"x"}}, "more than one client authentication method"},
		{"two headers", []string{"Basic a", "Basic b"}, nil, "repeated Authorization header"},
		{"repeated parameter", nil, url.Values{"client_assertion": {"a", "b"}}, "repeated client authentication parameter"},
		{"assertion alone", nil, url.Values{"client_assertion": {"a"}}, "client_assertion and client_assertion_type must be sent together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.authenticate(tt.authz, tt.form)
			requireAuthError(t, err, http.StatusBadRequest, CodeInvalidRequest, false, nil)
			assert.Equal(t, tt.want, err.(*Error).Description)
			assert.NoError(t, err.(*Error).Err)
		})
	}
}

func TestAuthenticateNilRequest(t *testing.T) {
	f := newCAFixture(t)
	c, err := f.auth.Authenticate(context.Background(), nil, url.Values{"client_id": {caPublicID}})
	require.NoError(t, err)
	assert.Equal(t, caPublicID, c.ID)
}

func TestAuthenticateStoreFailure(t *testing.T) {
	auth, err := NewClientAuthenticator(ClientAuthConfig{
		Clients: caFailingStore{}, TokenEndpoint: caTokenURL, Replay: caNoReplay{},
	})
	require.NoError(t, err)
	f := &caFixture{auth: auth}
	keys := caKeys()
	assertion := caSign(t, caHeader("RS384", "rsa-1"), caClaims(caJWTID, time.Now()), keys.rsa)
	tests := []struct {
		name  string
		authz []string
		form  url.Values
	}{
		{"basic", []string{caEncodedBasic(caBasicID, caBasicSecret)}, nil},
		{"post", nil, url.Values{"client_id": {caPostID}, "client_secret": {caPostSecret}}},
		{"public", nil, url.Values{"client_id": {caPublicID}}},
		{"assertion", nil, caAssertionForm(assertion)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.authenticate(tt.authz, tt.form)
			requireAuthError(t, err, http.StatusServiceUnavailable, CodeTemporarilyUnavailable, false, errCAStoreDown)
			assert.Nil(t, c)
		})
	}
}

// caOddStore returns a client other than the one asked for.
type caOddStore struct{}

func (caOddStore) Client(context.Context, string) (*Client, error) {
	return &Client{ID: "someone-else", AuthMethod: AuthNone}, nil
}

func TestAuthenticateStoreReturnsOtherClient(t *testing.T) {
	auth, err := NewClientAuthenticator(ClientAuthConfig{Clients: caOddStore{}, TokenEndpoint: caTokenURL, Replay: caNoReplay{}})
	require.NoError(t, err)
	_, err = auth.Authenticate(context.Background(), nil, url.Values{"client_id": {"me"}})
	requireAuthError(t, err, http.StatusInternalServerError, CodeServerError, false, nil)
}

// caBadHashStore returns a basic client whose SecretHash is not valid.
type caBadHashStore struct{}

func (caBadHashStore) Client(_ context.Context, id string) (*Client, error) {
	return &Client{ID: id, AuthMethod: AuthClientSecretBasic, SecretHash: "md5:abc"}, nil
}

func TestAuthenticateInvalidRegisteredHash(t *testing.T) {
	auth, err := NewClientAuthenticator(ClientAuthConfig{Clients: caBadHashStore{}, TokenEndpoint: caTokenURL, Replay: caNoReplay{}})
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, caTokenURL, nil)
	r.Header.Set("Authorization", caEncodedBasic("c", "s"))
	_, err = auth.Authenticate(context.Background(), r, nil)
	requireAuthError(t, err, http.StatusInternalServerError, CodeServerError, false, errInvalidSecretHash)
}

func TestWriteErrorOfAuthenticationFailure(t *testing.T) {
	f := newCAFixture(t)
	_, err := f.authenticate([]string{caEncodedBasic(caBasicID, "wrong")}, nil)
	rec := httptest.NewRecorder()
	WriteError(rec, err.(*Error))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Basic realm="token", charset="UTF-8"`, rec.Header().Get("WWW-Authenticate"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.JSONEq(t, `{"error":"invalid_client","error_description":"client authentication failed"}`, rec.Body.String())
	assert.NotContains(t, err.Error(), "wrong")
}

func TestNewClientAuthenticatorConfig(t *testing.T) {
	clients, err := NewStaticClients()
	require.NoError(t, err)
	ok := ClientAuthConfig{Clients: clients, TokenEndpoint: caTokenURL, Replay: caNoReplay{}}
	tests := []struct {
		name    string
		mod     func(*ClientAuthConfig)
		wantErr bool
	}{
		{"minimal", func(*ClientAuthConfig) {}, false},
		{"no clients", func(c *ClientAuthConfig) { c.Clients = nil }, true},
		{"no replay guard", func(c *ClientAuthConfig) { c.Replay = nil }, true},
		{"no token endpoint", func(c *ClientAuthConfig) { c.TokenEndpoint = "" }, true},
		{"relative token endpoint", func(c *ClientAuthConfig) { c.TokenEndpoint = "/token" }, true},
		{"alg none", func(c *ClientAuthConfig) { c.AssertionAlgorithms = []string{"none"} }, true},
		{"alg HS256", func(c *ClientAuthConfig) { c.AssertionAlgorithms = []string{"RS384", "HS256"} }, true},
		{"alg unknown", func(c *ClientAuthConfig) { c.AssertionAlgorithms = []string{"RS385"} }, true},
		{"alg EdDSA", func(c *ClientAuthConfig) { c.AssertionAlgorithms = []string{"EdDSA"} }, false},
		{"negative lifetime", func(c *ClientAuthConfig) { c.MaxAssertionLifetime = -time.Second }, true},
		{"negative leeway", func(c *ClientAuthConfig) { c.Leeway = -time.Second }, true},
		{"leeway too large", func(c *ClientAuthConfig) { c.Leeway = 2 * time.Minute }, true},
		{"leeway 1 minute", func(c *ClientAuthConfig) { c.Leeway = time.Minute }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mod(&cfg)
			a, err := NewClientAuthenticator(cfg)
			if tt.wantErr {
				require.Error(t, err)
				assert.Nil(t, a)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, a)
		})
	}
}

func TestAssertionAlgorithms(t *testing.T) {
	f := newCAFixture(t)
	assert.Equal(t, []string{"RS384", "ES384", "RS256", "RS512", "PS256", "PS384", "PS512", "ES256", "ES512"}, f.auth.AssertionAlgorithms())
	f = newCAFixture(t, func(c *ClientAuthConfig) { c.AssertionAlgorithms = []string{"ES384", "RS384", "ES384"} })
	assert.Equal(t, []string{"ES384", "RS384"}, f.auth.AssertionAlgorithms())
}
