package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// Default lifetimes of TokenConfig.
const (
	// DefaultAccessTokenLifetime is the access-token (and ID token)
	// lifetime: 1 hour, the longest SMART recommends.
	DefaultAccessTokenLifetime = time.Hour
	// DefaultOfflineIdle and DefaultOfflineAbsolute bound refresh tokens of
	// offline_access grants: a token unused for 30 days expires, and the
	// family ends 90 days after the grant.
	DefaultOfflineIdle     = 30 * 24 * time.Hour
	DefaultOfflineAbsolute = 90 * 24 * time.Hour
	// DefaultOnlineIdle and DefaultOnlineAbsolute bound refresh tokens of
	// the other grants (online_access): 30 minutes idle, 8 hours in all,
	// about one working session.
	DefaultOnlineIdle     = 30 * time.Minute
	DefaultOnlineAbsolute = 8 * time.Hour
)

// clientAuthenticator authenticates the client of a token request. The
// *ClientAuthenticator of this package implements it; errors are *Error
// (invalid_client, 401) for a client that failed to authenticate.
type clientAuthenticator interface {
	Authenticate(ctx context.Context, r *http.Request, form url.Values) (*Client, error)
}

// Lifetime bounds the refresh tokens of a grant.
type Lifetime struct {
	// Idle: a refresh token expires Idle after it was issued (each
	// rotation issues a new one). Zero value: the kind's default.
	Idle time.Duration
	// Absolute: no refresh token of the grant is valid Absolute after the
	// grant was made. Zero value: the kind's default.
	Absolute time.Duration
}

// TokenConfig configures NewTokenHandler. Issuer, Audience, Store, Clients
// and Signer are required; every other field has a documented default.
type TokenConfig struct {
	// Issuer is the iss of access and ID tokens: the authorization
	// server's issuer identifier.
	Issuer string
	// Audience is the aud of access tokens: the FHIR base URL of the
	// resource server.
	Audience string
	// Store keeps grants and hashed refresh tokens.
	Store tokenstore.Store
	// Clients authenticates clients: a *ClientAuthenticator (see
	// NewClientAuthenticator), or any value with its Authenticate method.
	Clients clientAuthenticator
	// Signer signs access and ID tokens.
	Signer *KeySet

	// AccessTokenLifetime is the lifetime of access and ID tokens
	// (expires_in). Zero value: DefaultAccessTokenLifetime.
	AccessTokenLifetime time.Duration
	// OfflineLifetime bounds refresh tokens of grants made with
	// offline_access. Zero fields: DefaultOfflineIdle,
	// DefaultOfflineAbsolute.
	OfflineLifetime Lifetime
	// OnlineLifetime bounds refresh tokens of every other grant
	// (online_access). Zero fields: DefaultOnlineIdle,
	// DefaultOnlineAbsolute.
	OnlineLifetime Lifetime
	// GracePeriod lets a client present a refresh token again shortly
	// after it was rotated (a lost response) and get new tokens, instead
	// of the whole family being revoked for reuse. Zero value: 0, every
	// second presentation is reuse (RFC 9700 §4.14.2).
	GracePeriod time.Duration

	// MaxBodySize caps the request body. Zero value: DefaultMaxBodySize.
	MaxBodySize int64
	// CORS lets browser apps from the allowed origins call the endpoint.
	// Zero value: no origin allowed.
	CORS CORS
	// Grants are further grant types (authorization_code,
	// client_credentials, ...) besides the built-in refresh_token. Zero
	// value: refresh_token only.
	Grants []GrantHandler

	// Audit receives security events. Zero value: SlogAudit(Logger).
	Audit AuditFunc
	// Logger logs server errors (never a token or secret). Zero value:
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// GrantHandler handles one grant_type at the token endpoint. The
// TokenHandler has already read the form, checked grant_type and
// authenticated the client when HandleGrant is called.
type GrantHandler interface {
	// GrantType is the grant_type value handled, e.g. "refresh_token".
	GrantType() string
	// HandleGrant answers the request. An *Error is written as the OAuth
	// error response; any other error is answered with server_error.
	HandleGrant(ctx context.Context, req *TokenRequest) (*TokenResponse, error)
}

// TokenRequest is a token request whose client has been authenticated.
type TokenRequest struct {
	// Client is the authenticated client.
	Client *Client
	// Form holds the request parameters; each has exactly one non-empty
	// value.
	Form url.Values
	// Now is the time of the request (the handler's clock).
	Now time.Time
	// HTTPRequest is the underlying request, body already read.
	HTTPRequest *http.Request
}

// TokenResponse is a successful token response (RFC 6749 §5.1) with the
// SMART launch context parameters.
type TokenResponse struct {
	// AccessToken is the new access token (a JWT for the built-in grants).
	AccessToken string `json:"access_token"`
	// TokenType is always "Bearer".
	TokenType string `json:"token_type"`
	// ExpiresIn is the access-token lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`
	// Scope is the scope of the access token.
	Scope string `json:"scope"`
	// RefreshToken is the new refresh token, if one is issued; the client
	// must discard the previous one.
	RefreshToken string `json:"refresh_token,omitempty"`
	// IDToken is the OpenID Connect ID token, issued with the openid scope.
	IDToken string `json:"id_token,omitempty"`
	// Launch is the SMART launch context, its fields inlined in the JSON.
	Launch
}

// TokenHandler is the OAuth 2.0 token endpoint (RFC 6749 §3.2). It accepts
// POST requests with form-encoded parameters, authenticates the client and
// dispatches on grant_type; refresh_token (RFC 6749 §6, SMART App Launch
// "Refresh access token") is built in.
type TokenHandler struct {
	issuer, audience string
	store            tokenstore.Store
	clients          clientAuthenticator
	signer           *KeySet
	accessLifetime   time.Duration
	offline, online  Lifetime
	grace            time.Duration
	maxBody          int64
	grants           map[string]GrantHandler
	audit            AuditFunc
	logger           *slog.Logger
	now              func() time.Time
	handler          http.Handler
}

// NewTokenHandler returns a token endpoint configured by cfg.
func NewTokenHandler(cfg TokenConfig) (*TokenHandler, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("authserver: TokenConfig.Issuer is required")
	case cfg.Audience == "":
		return nil, errors.New("authserver: TokenConfig.Audience is required")
	case cfg.Store == nil:
		return nil, errors.New("authserver: TokenConfig.Store is required")
	case cfg.Clients == nil:
		return nil, errors.New("authserver: TokenConfig.Clients is required")
	case cfg.Signer == nil:
		return nil, errors.New("authserver: TokenConfig.Signer is required")
	case cfg.AccessTokenLifetime < 0, cfg.GracePeriod < 0, cfg.MaxBodySize < 0:
		return nil, errors.New("authserver: TokenConfig durations and sizes must not be negative")
	}
	h := &TokenHandler{
		issuer:         cfg.Issuer,
		audience:       cfg.Audience,
		store:          cfg.Store,
		clients:        cfg.Clients,
		signer:         cfg.Signer,
		accessLifetime: orDuration(cfg.AccessTokenLifetime, DefaultAccessTokenLifetime),
		offline: Lifetime{
			Idle:     orDuration(cfg.OfflineLifetime.Idle, DefaultOfflineIdle),
			Absolute: orDuration(cfg.OfflineLifetime.Absolute, DefaultOfflineAbsolute),
		},
		online: Lifetime{
			Idle:     orDuration(cfg.OnlineLifetime.Idle, DefaultOnlineIdle),
			Absolute: orDuration(cfg.OnlineLifetime.Absolute, DefaultOnlineAbsolute),
		},
		grace:   cfg.GracePeriod,
		maxBody: cfg.MaxBodySize,
		grants:  make(map[string]GrantHandler),
		audit:   cfg.Audit,
		logger:  cfg.Logger,
		now:     cfg.Now,
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	if h.audit == nil {
		h.audit = SlogAudit(cfg.Logger)
	}
	if h.now == nil {
		h.now = time.Now
	}
	for _, g := range append([]GrantHandler{refreshGrant{h}}, cfg.Grants...) {
		t := g.GrantType()
		if t == "" {
			return nil, errors.New("authserver: a GrantHandler has an empty grant type")
		}
		if _, dup := h.grants[t]; dup {
			return nil, fmt.Errorf("authserver: grant type %q registered twice", t)
		}
		h.grants[t] = g
	}
	h.handler = cfg.CORS.Wrap(http.HandlerFunc(h.serveToken))
	return h, nil
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ServeHTTP answers a token request.
func (h *TokenHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.handler.ServeHTTP(w, r)
}

// serveToken is the endpoint behind CORS.
func (h *TokenHandler) serveToken(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
	case http.MethodOptions:
		w.Header().Set("Allow", "POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		WriteError(w, &Error{Status: http.StatusMethodNotAllowed, Code: CodeInvalidRequest,
			Description: "the token endpoint accepts only POST"})
		return
	}
	form, oerr := ReadForm(w, r, h.maxBody)
	if oerr != nil {
		WriteError(w, oerr)
		return
	}
	grantType := form.Get("grant_type")
	if grantType == "" {
		WriteError(w, &Error{Code: CodeInvalidRequest, Description: "grant_type is required"})
		return
	}
	grant, ok := h.grants[grantType]
	if !ok {
		WriteError(w, &Error{Code: CodeUnsupportedGrantType, Description: "the grant type is not supported"})
		return
	}
	ctx := r.Context()
	client, err := h.clients.Authenticate(ctx, r, form)
	if err != nil {
		e := h.asOAuthError(ctx, err)
		h.audit(ctx, AuditEvent{Kind: AuditClientAuthFailed, Reason: e.Code, Time: h.now()})
		WriteError(w, e)
		return
	}
	if client == nil {
		h.logger.ErrorContext(ctx, "authserver: client authenticator returned no client and no error")
		WriteError(w, errServer(nil))
		return
	}
	resp, err := grant.HandleGrant(ctx, &TokenRequest{Client: client, Form: form, Now: h.now(), HTTPRequest: r})
	if err == nil && resp == nil {
		err = fmt.Errorf("authserver: grant handler %q returned no response", grantType)
	}
	if err != nil {
		WriteError(w, h.asOAuthError(ctx, err))
		return
	}
	writeTokenResponse(w, resp)
}

// asOAuthError returns err as an *Error, or logs it and returns server_error.
func (h *TokenHandler) asOAuthError(ctx context.Context, err error) *Error {
	if e := (*Error)(nil); errors.As(err, &e) {
		if e.Status >= http.StatusInternalServerError {
			h.logger.ErrorContext(ctx, "authserver: token request failed", slog.String("code", e.Code), slog.Any("error", e.Err))
		}
		return e
	}
	h.logger.ErrorContext(ctx, "authserver: token request failed", slog.Any("error", err))
	return errServer(err)
}

func errServer(cause error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeServerError,
		Description: "the authorization server could not handle the request", Err: cause}
}

// writeTokenResponse writes a successful token response, never cached.
func writeTokenResponse(w http.ResponseWriter, resp *TokenResponse) {
	if resp.TokenType == "" {
		resp.TokenType = "Bearer"
	}
	b, err := json.Marshal(resp)
	if err != nil {
		WriteError(w, errServer(err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
