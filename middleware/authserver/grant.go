package authserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// NewGrant describes a grant (token family) to create with CreateGrant: what
// the user authorised one client to do.
type NewGrant struct {
	// ClientID is the client the grant is issued to. Required.
	ClientID string
	// Subject is the user's identifier, the sub of access and ID tokens.
	// Zero value: ClientID is used as sub.
	Subject string
	// FHIRUser is the FHIR resource URL of the user (fhirUser), if any.
	FHIRUser string
	// Scope is the granted scope, space-separated. Required. It decides
	// the kind of grant: offline_access makes an offline grant
	// (TokenConfig.OfflineLifetime); without it (online_access, or
	// neither) the grant is online (TokenConfig.OnlineLifetime).
	Scope string
	// Launch is the SMART launch context.
	Launch Launch
	// RefreshToken fixes the value of the first refresh token (for
	// example a demo's configured token; it is treated as an opaque
	// string, and refreshing it costs one more store lookup, to learn its
	// grant). It must not have the shape of a tokenstore.NewRefreshToken
	// value, which names a grant. Zero value: a new random token naming
	// the grant (tokenstore.NewRefreshToken).
	RefreshToken string
}

// CreateGrant stores a new grant and its first refresh token, and returns
// the refresh token and the grant ID. It is what a host that authorises
// clients by other means (a demo setup, an authorization endpoint of its
// own) calls once the user has authorised the client; NewCodeGrant's
// exchanges create their grants with the code, in
// tokenstore.CodeStore.RedeemCode, with the same kind and lifetimes. It
// wraps tokenstore.ErrConflict if a fixed RefreshToken is already in use.
func (h *TokenHandler) CreateGrant(ctx context.Context, ng NewGrant) (refreshToken, grantID string, err error) {
	if ng.ClientID == "" {
		return "", "", errors.New("authserver: NewGrant.ClientID is required")
	}
	if len(strings.Fields(ng.Scope)) == 0 {
		return "", "", errors.New("authserver: NewGrant.Scope is required")
	}
	launch, err := marshalLaunch(ng.Launch)
	if err != nil {
		return "", "", err
	}
	now := h.now()
	kind, life := h.grantKind(ng.Scope)
	g := tokenstore.Grant{
		ID:            tokenstore.NewID(),
		ClientID:      ng.ClientID,
		Subject:       ng.Subject,
		FHIRUser:      ng.FHIRUser,
		Scope:         ng.Scope,
		LaunchContext: launch,
		IssuedAt:      now,
		ExpiresAt:     now.Add(life.Absolute),
		IdleTimeout:   life.Idle,
		Kind:          kind,
	}
	token, ref := ng.RefreshToken, tokenstore.TokenRef{}
	if token == "" {
		token, ref = tokenstore.NewRefreshToken(g.ID)
	} else if ref = tokenstore.ParseRefreshToken(token); ref.GrantID != "" {
		return "", "", errors.New("authserver: NewGrant.RefreshToken has the shape of a value that names a grant")
	}
	first := tokenstore.RefreshToken{
		Hash: ref.Hash, GrantID: g.ID, Generation: 1, IssuedAt: now, ExpiresAt: g.NextExpiry(now),
	}
	if err := h.store.CreateGrant(ctx, g, first); err != nil {
		return "", "", fmt.Errorf("authserver: creating grant: %w", err)
	}
	h.audit(ctx, AuditEvent{Kind: AuditGrantCreated, ClientID: g.ClientID, GrantID: g.ID, Reason: string(kind), Time: now})
	return token, g.ID, nil
}

// grantKind returns the kind of a grant of scope and its lifetime:
// offline (TokenConfig.OfflineLifetime) with offline_access, else online
// (TokenConfig.OnlineLifetime).
func (h *TokenHandler) grantKind(scope string) (tokenstore.Kind, Lifetime) {
	if hasScope(scope, "offline_access") {
		return tokenstore.KindOffline, h.offline
	}
	return tokenstore.KindOnline, h.online
}

// IssueTokens signs an access token for grant g with scope (the grant's
// scope or a subset of it), and an ID token if scope holds openid and the
// grant has a Subject, and returns the token response carrying them,
// refreshToken (if not empty) and the grant's launch context.
func (h *TokenHandler) IssueTokens(ctx context.Context, g tokenstore.Grant, scope, refreshToken string) (*TokenResponse, error) {
	return h.issueTokens(ctx, g, scope, refreshToken, authentication{})
}

// issueTokens is IssueTokens with the claims of the user's authentication
// that the ID token of a code exchange carries.
func (h *TokenHandler) issueTokens(ctx context.Context, g tokenstore.Grant, scope, refreshToken string, authn authentication) (*TokenResponse, error) {
	launch, err := unmarshalLaunch(g.LaunchContext)
	if err != nil {
		return nil, err
	}
	now := h.now()
	iat, exp := now.Unix(), now.Add(h.accessLifetime).Unix()
	sub := g.Subject
	if sub == "" {
		sub = g.ClientID
	}
	at, err := h.signer.Sign(TypeAccessToken, accessTokenClaims{
		Issuer: h.issuer, Subject: sub, Audience: h.audience, ClientID: g.ClientID,
		IssuedAt: iat, ExpiresAt: exp, ID: tokenstore.NewID(), Scope: scope, GrantID: g.ID,
		FHIRUser: g.FHIRUser, Launch: launch,
	})
	if err != nil {
		return nil, err
	}
	resp := &TokenResponse{
		AccessToken:  at,
		TokenType:    "Bearer",
		ExpiresIn:    int64(h.accessLifetime.Seconds()),
		Scope:        scope,
		RefreshToken: refreshToken,
		Launch:       launch,
	}
	if hasScope(scope, "openid") && g.Subject != "" {
		c := idTokenClaims{
			Issuer: h.issuer, Subject: g.Subject, Audience: g.ClientID,
			IssuedAt: iat, ExpiresAt: exp, FHIRUser: g.FHIRUser,
			Nonce: authn.nonce,
		}
		if !authn.authTime.IsZero() {
			c.AuthTime = authn.authTime.Unix()
		}
		if hasScope(scope, "profile") {
			c.Profile = g.FHIRUser // SMART v1 put the user's FHIR URL in "profile".
		}
		if resp.IDToken, err = h.signer.Sign(TypeJWT, c); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// accessTokenClaims are the claims of a JWT access token (RFC 9068 §2.2)
// with the SMART launch context, as middleware.NewJWTVerifier reads them.
type accessTokenClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	ClientID  string `json:"client_id"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	ID        string `json:"jti"`
	Scope     string `json:"scope"`
	GrantID   string `json:"grant_id,omitempty"` // none for client_credentials
	FHIRUser  string `json:"fhirUser,omitempty"`
	Launch
}

// idTokenClaims are the claims of an OpenID Connect ID token.
type idTokenClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	FHIRUser  string `json:"fhirUser,omitempty"`
	Profile   string `json:"profile,omitempty"`
	Nonce     string `json:"nonce,omitempty"`
	AuthTime  int64  `json:"auth_time,omitempty"`
}

// authentication is what an ID token says of the user's authentication at
// the authorization endpoint: the request's nonce and the auth_time. A
// refresh knows neither (OpenID Connect Core §12.2).
type authentication struct {
	nonce    string
	authTime time.Time
}

// hasScope reports whether the space-separated scope holds name.
func hasScope(scope, name string) bool {
	for s := range strings.FieldsSeq(scope) {
		if s == name {
			return true
		}
	}
	return false
}
