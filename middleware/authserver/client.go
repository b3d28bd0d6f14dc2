package authserver

import "encoding/json"

// AuthMethod is a token endpoint client authentication method
// (token_endpoint_auth_method, RFC 7591).
type AuthMethod string

// The supported client authentication methods.
const (
	// AuthNone is a public client: it sends only client_id.
	AuthNone AuthMethod = "none"
	// AuthClientSecretBasic sends client_id and secret with HTTP Basic.
	AuthClientSecretBasic AuthMethod = "client_secret_basic"
	// AuthClientSecretPost sends client_id and client_secret in the body,
	// or with HTTP Basic (RFC 6749 §2.3.1: Basic is accepted from every
	// client issued a secret).
	AuthClientSecretPost AuthMethod = "client_secret_post"
	// AuthPrivateKeyJWT sends a signed client assertion (RFC 7523, SMART
	// client-confidential-asymmetric).
	AuthPrivateKeyJWT AuthMethod = "private_key_jwt"
)

// Client is a registered OAuth client.
type Client struct {
	// ID is the client_id.
	ID string
	// AuthMethod is the method this client must use to authenticate; a
	// client_secret_post client may also use HTTP Basic
	// (ClientAuthenticator.Authenticate).
	AuthMethod AuthMethod
	// SecretHash is HashSecret(secret) for client_secret_basic and
	// client_secret_post clients. The secret itself is never kept.
	SecretHash string
	// RedirectURIs are the client's registered redirection endpoints
	// (RFC 6749 §3.1.2), compared exactly with the redirect_uri of its
	// authorization requests. A client without any cannot use the
	// authorization endpoint nor the authorization_code grant
	// (unauthorized_client). See ValidateClient for what is accepted.
	RedirectURIs []string
	// JWKS is the client's registered public JWK Set (private_key_jwt).
	JWKS json.RawMessage
	// JWKSURL is the client's registered JWK Set URL (private_key_jwt),
	// used instead of, or in addition to, JWKS.
	JWKSURL string
	// Scope is the scope the client is pre-authorized for, space-separated
	// SMART scopes (SMART Backend Services: "the scope pre-authorized to
	// the client"). The client_credentials grant issues only system/
	// scopes that Scope covers by meaning (scope.Set.Covers: system/*.rs
	// covers system/Observation.rs); a private_key_jwt client whose Scope
	// holds no system/ scope may not use that grant. Zero value: no scope,
	// which the refresh_token grant ignores (its scope is the grant's).
	Scope string
}

// Confidential reports whether the client authenticates with a credential.
func (c *Client) Confidential() bool { return c.AuthMethod != AuthNone }
