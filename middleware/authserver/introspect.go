package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/tokenstore"
)

// Token type hints (RFC 7009 §2.1, RFC 7662 §2.1).
const (
	TokenTypeHintAccessToken  = "access_token"
	TokenTypeHintRefreshToken = "refresh_token"
)

// AuditIntrospectionRefused: an authenticated client that is not allowed
// to introspect (IntrospectionConfig.AllowedClients) called the
// introspection endpoint; it was answered 403 unauthorized_client.
const AuditIntrospectionRefused = "introspection_refused_client_not_allowed"

// DefaultIntrospectionScope is the scope a bearer token must hold to call
// the introspection endpoint when IntrospectionConfig.BearerScope is empty.
const DefaultIntrospectionScope = "introspect"

// inactiveBody is the whole answer for a token that is not active (RFC 7662
// §2.2): nothing else is revealed about it.
const inactiveBody = `{"active":false}`

// IntrospectionConfig configures NewIntrospectionHandler. Issuer, Audience,
// Store and Keys are required (they describe the tokens introspected, as in
// TokenConfig), and at least one way for callers to authenticate: Clients,
// or bearer tokens (enabled unless DisableBearer).
type IntrospectionConfig struct {
	// Issuer is the iss of the access tokens (TokenConfig.Issuer), also
	// returned for refresh tokens.
	Issuer string
	// Audience is the aud of the access tokens (TokenConfig.Audience).
	Audience string
	// Store holds the grants and refresh tokens (TokenConfig.Store).
	Store tokenstore.Store
	// Keys signs the access tokens (TokenConfig.Keys); they are
	// verified with its keys (see KeySet.AccessTokenVerifier).
	Keys *KeySet

	// Clients authenticates callers that are clients: a
	// *ClientAuthenticator or any value with its Authenticate method.
	// Only confidential clients may introspect, and only those
	// AllowedClients names (or any, with AllowAnyConfidentialClient); a
	// public client is refused with invalid_client. Zero value: only
	// bearer callers.
	Clients Authenticator
	// AllowedClients lists the client IDs that may introspect by client
	// authentication: the resource servers. Other authenticated clients
	// are refused with 403 unauthorized_client. RFC 7662 §4: an
	// introspection answer tells who a token belongs to and what it
	// grants, so the endpoint must not answer every client that can
	// authenticate — an app could otherwise probe tokens it was never
	// given. Zero value: no client may introspect (Clients must then be
	// nil, or AllowAnyConfidentialClient set).
	AllowedClients []string
	// AllowAnyConfidentialClient lets every confidential client introspect
	// any token of this server, the behaviour of earlier versions. Use it
	// only when every confidential client is a trusted resource server
	// (RFC 7662 §4). It cannot be combined with AllowedClients.
	AllowAnyConfidentialClient bool

	// BearerVerifier verifies the bearer tokens of callers that send
	// Authorization: Bearer (SMART App Launch, "Token Introspection":
	// an appropriately scoped SMART app or backend-service token). Zero
	// value: the access tokens of this server (Issuer, Audience, Keys),
	// whose grant must not be revoked.
	BearerVerifier middleware.TokenVerifier
	// BearerScope is the scope a caller's bearer token must hold. Zero
	// value: DefaultIntrospectionScope ("introspect").
	BearerScope string
	// DisableBearer turns bearer authentication of callers off: an
	// Authorization header is then client authentication (HTTP Basic).
	DisableBearer bool

	// StoreTimeout bounds each call to Store; a store that fails or does
	// not answer in time gets the request answered with 503
	// temporarily_unavailable and Retry-After. Zero value:
	// DefaultStoreTimeout (5 s).
	StoreTimeout time.Duration
	// MaxBodySize caps the request body. Zero value: DefaultMaxBodySize.
	MaxBodySize int64
	// MaxTokenSize caps the introspected token; a longer one is inactive
	// without any lookup. Zero value: middleware.DefaultMaxTokenSize.
	MaxTokenSize int
	// CORS lets browser callers from the allowed origins call the
	// endpoint. Zero value: no origin allowed (callers are servers).
	CORS CORS
	// Audit receives client authentication failures. Zero value:
	// SlogAudit(Logger).
	Audit AuditFunc
	// Logger logs server errors (never a token or secret). Zero value:
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// IntrospectionHandler is the OAuth 2.0 token introspection endpoint
// (RFC 7662) with the SMART App Launch additions: it tells a resource
// server whether an access or refresh token of this server is active and,
// if so, what it grants — scope, client_id, exp and the launch context.
//
// A request is a POST with form-encoded parameters token (required) and
// token_type_hint (optional, "access_token" or "refresh_token"; only the
// order of the lookups depends on it, and an unknown value is ignored).
// The caller authenticates either as a confidential client (Clients) that
// is allowed to introspect (AllowedClients), or with a bearer token holding
// BearerScope; failures are answered with 401 invalid_client (403
// unauthorized_client for a client not allowed), or 401 invalid_token (403
// insufficient_scope) and a WWW-Authenticate: Bearer challenge.
//
// The answer is 200 with Cache-Control: no-store. A token that is not
// active — unknown, malformed, expired, revoked, already rotated (refresh
// tokens), signed by another key, for another issuer or audience, or whose
// grant is revoked (access tokens) — gets exactly {"active":false}. An
// active token gets active, scope, client_id, token_type ("Bearer" or
// "refresh_token"), exp, iat, sub, iss, aud and jti (access tokens),
// fhirUser and every launch context parameter (patient, encounter,
// fhirContext, need_patient_banner, smart_style_url, intent, tenant). A
// store that fails, or does not answer within StoreTimeout, is answered
// with 503 temporarily_unavailable and Retry-After: 1, never with a guess.
type IntrospectionHandler struct {
	endpointBase
	issuer         string
	allowedClients []string
	allowAny       bool
	bearer         middleware.TokenVerifier // nil: bearer callers refused
	bearerScope    string
	handler        http.Handler
}

// NewIntrospectionHandler returns an introspection endpoint configured by
// cfg.
func NewIntrospectionHandler(cfg IntrospectionConfig) (*IntrospectionHandler, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("authserver: IntrospectionConfig.Issuer is required")
	case cfg.Audience == "":
		return nil, errors.New("authserver: IntrospectionConfig.Audience is required")
	case cfg.Store == nil:
		return nil, errors.New("authserver: IntrospectionConfig.Store is required")
	case cfg.Keys == nil:
		return nil, errors.New("authserver: IntrospectionConfig.Keys is required")
	case cfg.Clients == nil && cfg.DisableBearer:
		return nil, errors.New("authserver: IntrospectionConfig needs Clients or bearer authentication")
	case cfg.AllowAnyConfidentialClient && len(cfg.AllowedClients) > 0:
		return nil, errors.New("authserver: IntrospectionConfig: AllowedClients and AllowAnyConfidentialClient exclude each other")
	case cfg.Clients != nil && len(cfg.AllowedClients) == 0 && !cfg.AllowAnyConfidentialClient:
		return nil, errors.New("authserver: IntrospectionConfig.Clients is set but no client may introspect: " +
			"list the resource servers in AllowedClients (or set AllowAnyConfidentialClient)")
	case cfg.MaxBodySize < 0, cfg.MaxTokenSize < 0, cfg.StoreTimeout < 0:
		return nil, errors.New("authserver: IntrospectionConfig sizes and timeouts must not be negative")
	}
	bearerScope := cfg.BearerScope
	if bearerScope == "" {
		bearerScope = DefaultIntrospectionScope
	}
	if strings.ContainsFunc(bearerScope, func(r rune) bool { return !isScopeChar(r) }) {
		return nil, errors.New("authserver: IntrospectionConfig.BearerScope must be a single scope token")
	}
	base, err := newEndpointBase(endpointConfig{
		issuer: cfg.Issuer, audience: cfg.Audience, store: cfg.Store, storeTimeout: cfg.StoreTimeout,
		keys: cfg.Keys, clients: cfg.Clients, maxBody: cfg.MaxBodySize, maxToken: cfg.MaxTokenSize,
		audit: cfg.Audit, logger: cfg.Logger, now: cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	h := &IntrospectionHandler{
		endpointBase:   base,
		issuer:         cfg.Issuer,
		allowedClients: slices.Clone(cfg.AllowedClients),
		allowAny:       cfg.AllowAnyConfidentialClient,
		bearerScope:    bearerScope,
	}
	if !cfg.DisableBearer {
		h.bearer = cfg.BearerVerifier
		if h.bearer == nil {
			h.bearer = middleware.VerifierFunc(h.verifyLiveAccessToken)
		}
	}
	h.handler = cfg.CORS.Wrap(http.HandlerFunc(h.serveIntrospection))
	return h, nil
}

// ServeHTTP answers an introspection request.
func (h *IntrospectionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.handler.ServeHTTP(w, r)
}

func (h *IntrospectionHandler) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	form, ok := readPOSTForm(w, r, "introspection", h.maxBody)
	if !ok {
		return
	}
	ctx := r.Context()
	if !h.authorizeCaller(ctx, w, r, form) {
		return
	}
	token := form.Get("token")
	if token == "" {
		WriteError(w, &Error{Code: CodeInvalidRequest, Description: "token is required"})
		return
	}
	resp, err := h.Introspect(ctx, token, form.Get("token_type_hint"))
	if err != nil {
		h.logger.ErrorContext(ctx, "authserver: introspection failed", slog.Any("error", err))
		if storeUnavailable(err) {
			WriteError(w, errUnavailable("the token could not be looked up; retry later", err))
		} else {
			WriteError(w, errServer(err))
		}
		return
	}
	writeIntrospectionResponse(w, resp)
}

// authorizeCaller authenticates the caller of an introspection request,
// or answers the request and returns false.
func (h *IntrospectionHandler) authorizeCaller(ctx context.Context, w http.ResponseWriter, r *http.Request, form url.Values) bool {
	if h.bearer != nil {
		if token, ok := bearerCredential(r); ok {
			if form["client_secret"] != nil || form["client_assertion"] != nil {
				WriteError(w, &Error{Code: CodeInvalidRequest, Description: "more than one authentication method"})
				return false
			}
			return h.authorizeBearer(ctx, w, token)
		}
	}
	if h.clients == nil {
		writeBearerChallenge(w, http.StatusUnauthorized, "", "", "")
		return false
	}
	client, err := h.clients.Authenticate(ctx, r, form)
	if err != nil {
		e := oauthErrorOf(ctx, h.logger, err)
		h.audit(ctx, AuditEvent{Kind: AuditClientAuthFailed, Reason: e.Code, Time: h.now()})
		WriteError(w, e)
		return false
	}
	switch {
	case client == nil:
		h.logger.ErrorContext(ctx, "authserver: client authenticator returned no client and no error")
		WriteError(w, errServer(nil))
		return false
	case !client.Confidential():
		h.audit(ctx, AuditEvent{Kind: AuditClientAuthFailed, ClientID: client.ID, Reason: "public_client", Time: h.now()})
		WriteError(w, &Error{Status: http.StatusUnauthorized, Code: CodeInvalidClient,
			Description: "only confidential clients may introspect tokens"})
		return false
	case !h.allowAny && !slices.Contains(h.allowedClients, client.ID):
		h.audit(ctx, AuditEvent{Kind: AuditIntrospectionRefused, ClientID: client.ID, Time: h.now()})
		WriteError(w, &Error{Status: http.StatusForbidden, Code: CodeUnauthorizedClient,
			Description: "the client is not allowed to introspect tokens"})
		return false
	}
	return true
}

// authorizeBearer verifies a caller's bearer token and its scope.
func (h *IntrospectionHandler) authorizeBearer(ctx context.Context, w http.ResponseWriter, token string) bool {
	lc, err := h.bearer.VerifyToken(ctx, token)
	switch {
	case errors.Is(err, middleware.ErrVerifierUnavailable):
		h.logger.ErrorContext(ctx, "authserver: bearer verification unavailable", slog.Any("error", err))
		WriteError(w, errUnavailable("the caller's token could not be verified; retry later", err))
		return false
	case err != nil || lc == nil:
		writeBearerChallenge(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid", "")
		return false
	case !lc.Scopes.Has(h.bearerScope):
		writeBearerChallenge(w, http.StatusForbidden, "insufficient_scope",
			"the access token does not allow introspection", h.bearerScope)
		return false
	}
	return true
}

// IntrospectionResponse is the answer of the introspection endpoint for an
// active token (RFC 7662 §2.2, SMART App Launch "Token Introspection").
// Absent values are omitted, except scope, client_id and exp, which SMART
// requires.
type IntrospectionResponse struct {
	// Active is true: inactive tokens get only {"active":false}.
	Active bool `json:"active"`
	// Scope is the token's scope (a refresh token's: its grant's).
	Scope string `json:"scope"`
	// ClientID is the client the token was issued to.
	ClientID string `json:"client_id"`
	// TokenType is "Bearer" for access tokens, "refresh_token" for
	// refresh tokens.
	TokenType string `json:"token_type,omitempty"`
	// ExpiresAt is exp, in seconds since the epoch.
	ExpiresAt int64 `json:"exp"`
	// IssuedAt is iat, in seconds since the epoch.
	IssuedAt int64 `json:"iat,omitempty"`
	// Subject is sub: the user (or the client, for a grant without user).
	Subject string `json:"sub,omitempty"`
	// Audience is the aud of an access token.
	Audience []string `json:"aud,omitempty"`
	// Issuer is iss.
	Issuer string `json:"iss,omitempty"`
	// TokenID is the jti of an access token.
	TokenID string `json:"jti,omitempty"`
	// FHIRUser is fhirUser.
	FHIRUser string `json:"fhirUser,omitempty"`
	// Launch is the SMART launch context of the token.
	Launch
}

// Introspect looks token up — as an access token, then as a refresh token,
// or the other way round if hint is "refresh_token" or the token does not
// look like a JWT — and returns what it grants, or nil if it is not active.
// An error means the token store failed (or the access token keys could
// not be used) and nothing can be said about the token.
func (h *IntrospectionHandler) Introspect(ctx context.Context, token, hint string) (*IntrospectionResponse, error) {
	if token == "" || len(token) > h.maxToken {
		return nil, nil
	}
	accessFirst := strings.Count(token, ".") == 2
	switch hint {
	case TokenTypeHintAccessToken:
		accessFirst = true
	case TokenTypeHintRefreshToken:
		accessFirst = false
	}
	lookups := [2]func(context.Context, string) (*IntrospectionResponse, error){h.introspectRefresh, h.introspectAccess}
	if accessFirst {
		lookups[0], lookups[1] = lookups[1], lookups[0]
	}
	for _, lookup := range lookups {
		if resp, err := lookup(ctx, token); resp != nil || err != nil {
			return resp, err
		}
	}
	return nil, nil
}

// introspectAccess returns the response for an active access token of this
// server, or nil.
func (h *IntrospectionHandler) introspectAccess(ctx context.Context, token string) (*IntrospectionResponse, error) {
	lc, err := h.verifyLiveAccessToken(ctx, token)
	switch {
	case errors.Is(err, middleware.ErrVerifierUnavailable):
		return nil, err
	case err != nil:
		return nil, nil
	}
	resp := &IntrospectionResponse{
		Active:    true,
		Scope:     lc.Scopes.String(),
		ClientID:  lc.ClientID,
		TokenType: "Bearer",
		ExpiresAt: lc.ExpiresAt.Unix(),
		Subject:   lc.Subject,
		Audience:  lc.Audience,
		Issuer:    lc.Issuer,
		TokenID:   lc.TokenID,
		FHIRUser:  lc.FHIRUser,
		Launch: Launch{
			Patient:       lc.Patient,
			Encounter:     lc.Encounter,
			FHIRContext:   lc.FHIRContext,
			SmartStyleURL: lc.SmartStyleURL,
			Intent:        lc.Intent,
			Tenant:        lc.Tenant,
		},
	}
	if !lc.IssuedAt.IsZero() {
		resp.IssuedAt = lc.IssuedAt.Unix()
	}
	if _, ok := lc.Claim("need_patient_banner"); ok {
		banner := lc.NeedPatientBanner
		resp.NeedPatientBanner = &banner
	}
	return resp, nil
}

// verifyLiveAccessToken verifies an access token of this server and checks
// that its grant, if it names one, is neither revoked nor expired nor gone.
// A failing store is reported wrapping middleware.ErrVerifierUnavailable.
func (h *IntrospectionHandler) verifyLiveAccessToken(ctx context.Context, token string) (*middleware.LaunchContext, error) {
	if strings.Count(token, ".") != 2 {
		return nil, middleware.ErrMalformedToken
	}
	lc, err := h.access.VerifyToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if lc.GrantID == "" {
		return lc, nil
	}
	g, err := h.store.Grant(ctx, lc.GrantID)
	switch {
	case tokenstore.IsRecordError(err):
		return nil, middleware.ErrTokenRevoked
	case err != nil:
		return nil, fmt.Errorf("%w: %w", middleware.ErrVerifierUnavailable, storeFailure("grant lookup", err))
	case g.Revoked || !h.now().Before(g.ExpiresAt):
		return nil, middleware.ErrTokenRevoked
	}
	return lc, nil
}

// introspectRefresh returns the response for an active refresh token, or
// nil.
func (h *IntrospectionHandler) introspectRefresh(ctx context.Context, token string) (*IntrospectionResponse, error) {
	g, rt, err := h.store.LookupToken(ctx, tokenstore.ParseRefreshToken(token))
	switch {
	case tokenstore.IsRecordError(err):
		return nil, nil
	case err != nil:
		return nil, storeFailure("refresh token lookup", err)
	case rt.Check(g, h.now()) != nil:
		return nil, nil
	}
	launch, err := unmarshalLaunch(g.LaunchContext)
	if err != nil {
		return nil, err
	}
	sub := g.Subject
	if sub == "" {
		sub = g.ClientID // as in the access tokens of the grant
	}
	resp := &IntrospectionResponse{
		Active:    true,
		Scope:     g.Scope,
		ClientID:  g.ClientID,
		TokenType: "refresh_token",
		ExpiresAt: rt.ExpiresAt.Unix(),
		Subject:   sub,
		Issuer:    h.issuer,
		FHIRUser:  g.FHIRUser,
		Launch:    launch,
	}
	if !rt.IssuedAt.IsZero() {
		resp.IssuedAt = rt.IssuedAt.Unix()
	}
	return resp, nil
}

// writeIntrospectionResponse writes resp, or exactly {"active":false} if it is nil,
// with Cache-Control: no-store.
func writeIntrospectionResponse(w http.ResponseWriter, resp *IntrospectionResponse) {
	body := []byte(inactiveBody)
	if resp != nil {
		b, err := json.Marshal(resp)
		if err != nil {
			WriteError(w, errServer(err))
			return
		}
		body = b
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
