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

// Retry window of refresh-token rotation (TokenConfig.RetryWindow).
const (
	// DefaultRetryWindow is how long after a refresh token was first
	// accepted its client may present it again as a retry — because the
	// answer was lost, or was a 5xx after the store had rotated the token —
	// and get new tokens instead of having the family revoked for reuse:
	// 30 seconds.
	//
	// The trade-off: a thief who presents a stolen, just-used refresh token
	// with the client's credentials within the window gets one access token
	// (and a refresh token that supersedes the client's). The family is not
	// forked, though: the token the legitimate client received is now dead,
	// so its next refresh is detected as reuse and revokes the whole family,
	// the thief's token included. A public client's retry needs no
	// credentials beyond the token, so the window matters most for them;
	// set TokenConfig.RetryWindow negative to turn retries off (every
	// second presentation is then reuse, RFC 9700 §4.14.2, and a lost
	// answer costs the client its grant).
	DefaultRetryWindow = 30 * time.Second
	// MaxRetryWindow is the largest TokenConfig.RetryWindow accepted.
	MaxRetryWindow = time.Minute
)

// Authenticator authenticates the client of a token, introspection or
// revocation request. The *ClientAuthenticator of this package implements
// it; a host may wrap it (to log, or to look clients up elsewhere). Errors
// are *Error (invalid_client, 401) for a client that failed to
// authenticate; any other error is a failure of the authenticator.
type Authenticator interface {
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
// and Keys are required; every other field has a documented default.
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
	Clients Authenticator
	// Keys signs access and ID tokens (and verifies them where the
	// introspection and revocation endpoints need to: give them the same
	// KeySet).
	Keys *KeySet

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
	// RetryWindow is how long after a refresh token was first accepted
	// (measured by the store, see tokenstore.RotateRequest.RetryWindow) its
	// client may present it again as a retry and get new tokens: the
	// successor issued before is then superseded, so the family never
	// forks. Zero value: DefaultRetryWindow (30 s; read its trade-off).
	// Negative: no retry, every second presentation is reuse and revokes
	// the family. At most MaxRetryWindow. Keep it above StoreTimeout plus
	// the clients' retry delay, so that the retry of a request answered
	// 503 falls inside it.
	RetryWindow time.Duration
	// StoreTimeout bounds each call to Store; a call that has not
	// answered by then is answered 503 temporarily_unavailable (see
	// TokenHandler). Zero value: DefaultStoreTimeout (5 s).
	StoreTimeout time.Duration

	// MaxBodySize caps the request body. Zero value: DefaultMaxBodySize.
	MaxBodySize int64
	// CORS lets browser apps from the allowed origins call the endpoint.
	// Zero value: no origin allowed.
	CORS CORS
	// ClientCredentials, if not nil, enables the built-in
	// client_credentials grant of SMART Backend Services (see
	// ClientCredentialsConfig). Zero value: the grant is not offered
	// (unsupported_grant_type).
	ClientCredentials *ClientCredentialsConfig
	// Grants are further grant types (authorization_code, ...) besides
	// the built-in refresh_token and client_credentials. Zero value: the
	// built-in grants only.
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
	// Handler is the token endpoint answering, for grants that create
	// grants or issue tokens (CreateGrant, IssueTokens).
	Handler *TokenHandler
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
//
// Every store call runs under a deadline (TokenConfig.StoreTimeout). A
// store that fails, or does not answer in time, gets the request answered
// with 503 temporarily_unavailable and Retry-After: 1 — even a store that
// ignores its context: the handler stops waiting at the deadline and the
// call may finish in the background. Nothing is lost then: if the
// rotation did reach the store, the client's retry with the same refresh
// token is accepted by the retry rule (TokenConfig.RetryWindow); if it did
// not, the retry is a first presentation. Faults of the server itself (a
// token that cannot be signed, a misbehaving GrantHandler) are answered
// with 500 server_error; after a rotation, the client's retry works there
// too.
type TokenHandler struct {
	issuer, audience string
	store            tokenstore.Store // under the StoreTimeout deadline
	clients          Authenticator
	signer           *KeySet
	accessLifetime   time.Duration
	offline, online  Lifetime
	retryWindow      time.Duration // 0: no retry
	maxBody          int64
	grants           map[string]GrantHandler
	grantTypes       []string // in registration order
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
	case cfg.Keys == nil:
		return nil, errors.New("authserver: TokenConfig.Keys is required")
	case cfg.AccessTokenLifetime < 0, cfg.StoreTimeout < 0, cfg.MaxBodySize < 0:
		return nil, errors.New("authserver: TokenConfig durations and sizes must not be negative")
	case cfg.RetryWindow > MaxRetryWindow:
		return nil, fmt.Errorf("authserver: TokenConfig.RetryWindow must not exceed %v", MaxRetryWindow)
	}
	retryWindow := cfg.RetryWindow
	switch {
	case retryWindow == 0:
		retryWindow = DefaultRetryWindow
	case retryWindow < 0:
		retryWindow = 0 // tokenstore: zero means no retry
	}
	h := &TokenHandler{
		issuer:         cfg.Issuer,
		audience:       cfg.Audience,
		store:          deadlineStore{cfg.Store, storeTimeout(cfg.StoreTimeout)},
		clients:        cfg.Clients,
		signer:         cfg.Keys,
		accessLifetime: orDuration(cfg.AccessTokenLifetime, DefaultAccessTokenLifetime),
		offline: Lifetime{
			Idle:     orDuration(cfg.OfflineLifetime.Idle, DefaultOfflineIdle),
			Absolute: orDuration(cfg.OfflineLifetime.Absolute, DefaultOfflineAbsolute),
		},
		online: Lifetime{
			Idle:     orDuration(cfg.OnlineLifetime.Idle, DefaultOnlineIdle),
			Absolute: orDuration(cfg.OnlineLifetime.Absolute, DefaultOnlineAbsolute),
		},
		retryWindow: retryWindow,
		maxBody:     cfg.MaxBodySize,
		grants:      make(map[string]GrantHandler),
		audit:       cfg.Audit,
		logger:      cfg.Logger,
		now:         cfg.Now,
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
	grants := []GrantHandler{refreshGrant{h}}
	if cfg.ClientCredentials != nil {
		cc, err := newClientCredentialsGrant(h, *cfg.ClientCredentials)
		if err != nil {
			return nil, err
		}
		grants = append(grants, cc)
	}
	for _, g := range append(grants, cfg.Grants...) {
		t := g.GrantType()
		if t == "" {
			return nil, errors.New("authserver: a GrantHandler has an empty grant type")
		}
		if _, dup := h.grants[t]; dup {
			return nil, fmt.Errorf("authserver: grant type %q registered twice", t)
		}
		h.grants[t] = g
		h.grantTypes = append(h.grantTypes, t)
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

// GrantTypes returns the grant types the handler serves, in the order they
// were registered: refresh_token, client_credentials if enabled, then those
// of TokenConfig.Grants. DiscoveryConfig.Tokens advertises them.
func (h *TokenHandler) GrantTypes() []string { return slices.Clone(h.grantTypes) }

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
	resp, err := grant.HandleGrant(ctx, &TokenRequest{Client: client, Form: form, Now: h.now(), HTTPRequest: r, Handler: h})
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
