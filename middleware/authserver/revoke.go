package authserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/tokenstore"
)

// Audit event kinds of the revocation endpoint.
const (
	// AuditTokenRevoked: a client revoked one of its tokens; its whole
	// grant (GrantID) is revoked. Reason is the type of the token
	// presented: "refresh_token" or "access_token".
	AuditTokenRevoked = "token_revoked"
	// AuditRevocationRefused: a client presented a token of another
	// client; nothing was revoked (and the client was answered 200, as
	// for an invalid token).
	AuditRevocationRefused = "revocation_refused_client_mismatch"
)

// RevocationConfig configures NewRevocationHandler. Issuer, Audience, Store,
// Keys and Clients are required; every other field has a documented
// default.
type RevocationConfig struct {
	// Issuer is the iss of the access tokens (TokenConfig.Issuer).
	Issuer string
	// Audience is the aud of the access tokens (TokenConfig.Audience).
	Audience string
	// Store holds the grants and refresh tokens (TokenConfig.Store).
	Store tokenstore.Store
	// Keys signs the access tokens (TokenConfig.Keys).
	Keys *KeySet
	// Clients authenticates clients (TokenConfig.Clients): confidential
	// clients with their credentials, public clients with their
	// client_id alone (RFC 7009 §2.1 allows it: such a client can only
	// revoke tokens it holds).
	Clients Authenticator

	// StoreTimeout bounds each call to Store; a store that fails or does
	// not answer in time gets the request answered with 503
	// temporarily_unavailable and Retry-After. Zero value:
	// DefaultStoreTimeout (5 s).
	StoreTimeout time.Duration
	// MaxBodySize caps the request body. Zero value: DefaultMaxBodySize.
	MaxBodySize int64
	// MaxTokenSize caps the presented token; a longer one is treated as
	// invalid (200, nothing revoked). Zero value:
	// middleware.DefaultMaxTokenSize.
	MaxTokenSize int
	// CORS lets browser apps (public clients) from the allowed origins
	// call the endpoint. Zero value: no origin allowed.
	CORS CORS
	// Audit receives revocations, refused revocations and client
	// authentication failures. Zero value: SlogAudit(Logger). Pass the
	// token endpoint's AuditFunc to keep one audit trail.
	Audit AuditFunc
	// Logger logs server errors (never a token or secret). Zero value:
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// RevocationHandler is the OAuth 2.0 token revocation endpoint (RFC 7009).
//
// A request is a POST with form-encoded parameters token (required) and
// token_type_hint (optional: "refresh_token" or "access_token"; it only
// decides which lookup comes first, and an unknown value is ignored, as
// RFC 7009 §2.1 allows). The client authenticates as at the token endpoint.
//
// Revoking a refresh token revokes its whole grant (token family): no
// refresh token of it can be used again, and access tokens issued from it
// are inactive at introspection and refused by resource servers that check
// revocation (middleware.WithRevocationCheck). Revoking an access token of
// this server (a valid, unexpired one) revokes its grant the same way:
// access tokens are self-contained JWTs, so their grant is the only thing
// that can be revoked.
//
// The answer is 200 with an empty body and Cache-Control: no-store, also
// when the token is unknown, invalid, expired or already revoked
// (RFC 7009 §2.2), and when it belongs to another client: then nothing is
// revoked, but the client cannot tell a foreign token from an invalid one.
// unsupported_token_type is never answered: both token types are
// supported. A store that fails, or does not answer within StoreTimeout, is
// answered with 503 temporarily_unavailable and Retry-After: 1, which tells
// the client that the token may still be valid and to retry later
// (RFC 7009 §2.2.1).
type RevocationHandler struct {
	endpointBase
	handler http.Handler
}

// NewRevocationHandler returns a revocation endpoint configured by cfg.
func NewRevocationHandler(cfg RevocationConfig) (*RevocationHandler, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("authserver: RevocationConfig.Issuer is required")
	case cfg.Audience == "":
		return nil, errors.New("authserver: RevocationConfig.Audience is required")
	case cfg.Store == nil:
		return nil, errors.New("authserver: RevocationConfig.Store is required")
	case cfg.Keys == nil:
		return nil, errors.New("authserver: RevocationConfig.Keys is required")
	case cfg.Clients == nil:
		return nil, errors.New("authserver: RevocationConfig.Clients is required")
	case cfg.MaxBodySize < 0, cfg.MaxTokenSize < 0, cfg.StoreTimeout < 0:
		return nil, errors.New("authserver: RevocationConfig sizes and timeouts must not be negative")
	}
	base, err := newEndpointBase(endpointConfig{
		issuer: cfg.Issuer, audience: cfg.Audience, store: cfg.Store, storeTimeout: cfg.StoreTimeout,
		keys: cfg.Keys, clients: cfg.Clients, maxBody: cfg.MaxBodySize, maxToken: cfg.MaxTokenSize,
		audit: cfg.Audit, logger: cfg.Logger, now: cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	h := &RevocationHandler{endpointBase: base}
	h.handler = cfg.CORS.Wrap(http.HandlerFunc(h.serveRevocation))
	return h, nil
}

// ServeHTTP answers a revocation request.
func (h *RevocationHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.handler.ServeHTTP(w, r)
}

func (h *RevocationHandler) serveRevocation(w http.ResponseWriter, r *http.Request) {
	form, ok := readPOSTForm(w, r, "revocation", h.maxBody)
	if !ok {
		return
	}
	ctx := r.Context()
	client, err := h.clients.Authenticate(ctx, r, form)
	if err != nil {
		e := oauthErrorOf(ctx, h.logger, err)
		h.audit(ctx, AuditEvent{Kind: AuditClientAuthFailed, Reason: e.Code, Time: h.now()})
		WriteError(w, e)
		return
	}
	if client == nil {
		h.logger.ErrorContext(ctx, "authserver: client authenticator returned no client and no error")
		WriteError(w, errServer(nil))
		return
	}
	token := form.Get("token")
	if token == "" {
		WriteError(w, &Error{Code: CodeInvalidRequest, Description: "token is required"})
		return
	}
	if err := h.Revoke(ctx, client.ID, token, form.Get("token_type_hint")); err != nil {
		h.logger.ErrorContext(ctx, "authserver: revocation failed", slog.Any("error", err))
		WriteError(w, errUnavailable("the token could not be revoked; retry later", err))
		return
	}
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Pragma", "no-cache")
	hdr.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// Revoke revokes the grant of token if token is a refresh token, or a
// valid access token, of this server issued to clientID; otherwise it does
// nothing. hint ("refresh_token" or "access_token") decides which lookup
// comes first. It returns an error only if the store failed: the token may
// then still be valid.
func (h *RevocationHandler) Revoke(ctx context.Context, clientID, token, hint string) error {
	if token == "" || len(token) > h.maxToken {
		return nil
	}
	accessFirst := strings.Count(token, ".") == 2
	switch hint {
	case TokenTypeHintAccessToken:
		accessFirst = true
	case TokenTypeHintRefreshToken:
		accessFirst = false
	}
	lookups := [2]func(context.Context, string) (grantID, owner string, err error){h.refreshGrant, h.accessGrant}
	kinds := [2]string{TokenTypeHintRefreshToken, TokenTypeHintAccessToken}
	if accessFirst {
		lookups[0], lookups[1] = lookups[1], lookups[0]
		kinds[0], kinds[1] = kinds[1], kinds[0]
	}
	for i, lookup := range lookups {
		grantID, owner, err := lookup(ctx, token)
		if err != nil {
			return err
		}
		if grantID == "" {
			continue
		}
		if owner != clientID {
			h.audit(ctx, AuditEvent{Kind: AuditRevocationRefused, ClientID: clientID, GrantID: grantID, Time: h.now()})
			return nil
		}
		if err := h.store.RevokeGrant(ctx, grantID, h.now()); err != nil && !errors.Is(err, tokenstore.ErrNotFound) {
			return storeFailure("revoking the grant", err)
		}
		h.audit(ctx, AuditEvent{Kind: AuditTokenRevoked, ClientID: clientID, GrantID: grantID, Reason: kinds[i], Time: h.now()})
		return nil
	}
	return nil
}

// refreshGrant returns the grant of a refresh token and its client, or ""
// if the token is unknown. A used, expired or revoked token still names
// its grant: revoking it ends the family all the same.
func (h *RevocationHandler) refreshGrant(ctx context.Context, token string) (grantID, owner string, err error) {
	g, _, err := h.store.LookupToken(ctx, tokenstore.ParseRefreshToken(token))
	switch {
	case tokenstore.IsRecordError(err):
		return "", "", nil
	case err != nil:
		return "", "", storeFailure("refresh token lookup", err)
	}
	return g.ID, g.ClientID, nil
}

// accessGrant returns the grant and client of a valid access token of this
// server, or "" if it is invalid or names no grant.
func (h *RevocationHandler) accessGrant(ctx context.Context, token string) (grantID, owner string, err error) {
	if strings.Count(token, ".") != 2 {
		return "", "", nil
	}
	lc, err := h.access.VerifyToken(ctx, token)
	switch {
	case errors.Is(err, middleware.ErrVerifierUnavailable):
		return "", "", err
	case err != nil:
		return "", "", nil
	}
	return lc.GrantID, lc.ClientID, nil
}
