package authserver

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/smartauth/smartauth/middleware/scope"
	"github.com/smartauth/smartauth/tokenstore"
)

// GrantTypeClientCredentials is the grant_type of the client credentials
// grant (RFC 6749 §4.4), the token request of SMART Backend Services.
const GrantTypeClientCredentials = "client_credentials"

// DefaultClientCredentialsLifetime is the default lifetime of the access
// tokens of the client_credentials grant: five minutes, the most SMART
// Backend Services recommends ("expires_in ... SHOULD NOT exceed 300").
const DefaultClientCredentialsLifetime = 5 * time.Minute

// ClientCredentialsConfig enables the client_credentials grant of SMART
// Backend Services (TokenConfig.ClientCredentials).
//
// The grant serves confidential asymmetric clients only: a client
// registered with AuthPrivateKeyJWT (its assertion verified by the
// ClientAuthenticator: signature, aud, exp, single-use jti) whose
// Client.Scope holds at least one system/ scope. Any other client gets 400
// unauthorized_client (RFC 6749 §5.2; §4.4 reserves the grant to
// confidential clients).
//
// The scope parameter is required (SMART Backend Services; RFC 6749 §3.3
// lets the server refuse a request without it: invalid_scope). It is
// mediated against the client's registered scope, as the IG requires ("the
// FHIR authorization server SHALL mediate the request to assure that the
// scope requested is within the scope pre-authorized to the client"):
//
//   - every requested token must be a system/ clinical scope (v1 or v2,
//     constraints allowed); anything else — user/ and patient/ scopes,
//     openid, launch, offline_access, a malformed token — can never be
//     granted here and refuses the whole request with invalid_scope, so
//     that a misconfigured client learns it at once;
//   - a system/ scope that the registered scope covers by meaning
//     (scope.Set.Covers: system/*.rs covers system/Observation.rs and
//     system/Observation.rs?category=laboratory; system/*.read covers
//     system/Patient.rs) is granted as requested;
//   - a system/ scope the registered scope does not cover is dropped: RFC
//     6749 §3.3 lets the server grant less than asked, and the response's
//     scope, which SMART requires, says what was granted ("this can be
//     different from the scopes requested"). A Bulk Data kick-off for the
//     dropped types then fails at the resource server, as the Bulk Data IG
//     wants. If nothing remains, the request is refused with invalid_scope.
//
// The response has access_token, token_type "Bearer" (RFC 6749 §7.1: case
// insensitive; SMART writes "bearer"), expires_in and scope, and never a
// refresh token (SMART: "Refresh tokens SHOULD NOT be issued"). The access
// token is a JWT (typ at+jwt) with iss, aud, sub and client_id (both the
// client_id), scope, iat, exp and jti, and no launch context and no
// grant_id: it belongs to no grant, so middleware.WithRevocationCheck does
// not apply to it and it lives until it expires.
type ClientCredentialsConfig struct {
	// AccessTokenLifetime is the lifetime (expires_in) of the grant's
	// access tokens. Zero value: DefaultClientCredentialsLifetime, or
	// TokenConfig.AccessTokenLifetime if that is shorter. It may not
	// exceed TokenConfig.AccessTokenLifetime, the longest lifetime of any
	// access token the handler issues (key rotation counts on it).
	AccessTokenLifetime time.Duration
}

// clientCredentialsGrant is the client_credentials grant of a TokenHandler.
type clientCredentialsGrant struct {
	h        *TokenHandler
	lifetime time.Duration
}

// newClientCredentialsGrant checks cfg against the handler's access-token
// lifetime and applies its defaults.
func newClientCredentialsGrant(h *TokenHandler, cfg ClientCredentialsConfig) (clientCredentialsGrant, error) {
	lifetime := cfg.AccessTokenLifetime
	switch {
	case lifetime < 0:
		return clientCredentialsGrant{}, errors.New("authserver: ClientCredentialsConfig.AccessTokenLifetime must not be negative")
	case lifetime == 0:
		lifetime = min(DefaultClientCredentialsLifetime, h.accessLifetime)
	case lifetime > h.accessLifetime:
		return clientCredentialsGrant{}, errors.New("authserver: ClientCredentialsConfig.AccessTokenLifetime must not exceed TokenConfig.AccessTokenLifetime")
	case lifetime < time.Second:
		return clientCredentialsGrant{}, errors.New("authserver: ClientCredentialsConfig.AccessTokenLifetime must be at least one second")
	}
	return clientCredentialsGrant{h: h, lifetime: lifetime}, nil
}

// GrantType returns "client_credentials".
func (clientCredentialsGrant) GrantType() string { return GrantTypeClientCredentials }

// Descriptions of the refusals of the client_credentials grant.
const (
	descClientCredentialsUnauthorized = "the client is not registered for the client_credentials grant"
	descScopeRequired                 = "scope is required"
	descScopeNotSystem                = "the client_credentials grant issues system/ scopes only"
	descScopeNotPreAuthorized         = "no requested scope is within the scope the client is registered for"
)

// HandleGrant issues an access token for the registered system/ scopes the
// client asks for.
func (g clientCredentialsGrant) HandleGrant(ctx context.Context, req *TokenRequest) (*TokenResponse, error) {
	h, c := g.h, req.Client
	if c.AuthMethod != AuthPrivateKeyJWT || !holdsSystemScope(c.Scope) {
		return nil, g.refused(ctx, c.ID, CodeUnauthorizedClient, descClientCredentialsUnauthorized)
	}
	granted, reduced, desc := mediateSystemScope(req.Form.Get("scope"), c.Scope)
	if desc != "" {
		return nil, g.refused(ctx, c.ID, CodeInvalidScope, desc)
	}
	now := req.Now
	at, err := h.signer.Sign(TypeAccessToken, accessTokenClaims{
		Issuer: h.issuer, Subject: c.ID, Audience: h.audience, ClientID: c.ID,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(g.lifetime).Unix(), ID: tokenstore.NewID(), Scope: granted,
	})
	if err != nil {
		h.audit(ctx, AuditEvent{Kind: AuditClientCredentialsFailed, ClientID: c.ID, Reason: CodeServerError, Time: h.now()})
		return nil, err
	}
	reason := ""
	if reduced {
		reason = "scope_reduced"
	}
	h.audit(ctx, AuditEvent{Kind: AuditClientCredentialsSucceeded, ClientID: c.ID, Reason: reason, Time: h.now()})
	return &TokenResponse{
		AccessToken: at,
		TokenType:   "Bearer",
		ExpiresIn:   int64(g.lifetime / time.Second),
		Scope:       granted,
	}, nil
}

// refused audits a refusal and returns its 400 OAuth error.
func (g clientCredentialsGrant) refused(ctx context.Context, clientID, code, description string) error {
	g.h.audit(ctx, AuditEvent{Kind: AuditClientCredentialsFailed, ClientID: clientID, Reason: code, Time: g.h.now()})
	return &Error{Code: code, Description: description}
}

// holdsSystemScope reports whether the scope string has a system/ clinical
// scope.
func holdsSystemScope(s string) bool {
	for _, sc := range scope.Parse(s).Scopes() {
		if sc.Kind == scope.KindClinical && sc.Context == scope.System {
			return true
		}
	}
	return false
}

// mediateSystemScope returns the scope to grant for the requested scope
// under the registered one (see ClientCredentialsConfig): the requested
// system/ scopes that registered covers, normalised (single spaces, no
// duplicates, in request order), and whether some requested scope was
// dropped; or the description of the invalid_scope refusal.
func mediateSystemScope(requested, registered string) (granted string, reduced bool, refusal string) {
	req := scope.Parse(requested).Scopes()
	if len(req) == 0 {
		return "", false, descScopeRequired
	}
	for _, sc := range req {
		if sc.Kind != scope.KindClinical || sc.Context != scope.System {
			return "", false, descScopeNotSystem
		}
	}
	allowed := scope.Parse(registered)
	kept := make([]string, 0, len(req))
	for _, sc := range req {
		switch {
		case !allowed.Covers(sc.Raw):
			reduced = true
		case !slices.Contains(kept, sc.Raw):
			kept = append(kept, sc.Raw)
		}
	}
	if len(kept) == 0 {
		return "", false, descScopeNotPreAuthorized
	}
	return strings.Join(kept, " "), reduced, ""
}
