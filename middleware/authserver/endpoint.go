package authserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/tokenstore"
)

// This file holds what the introspection and revocation endpoints share.

// readPOSTForm admits only POST (see allowPOST) and reads the request's
// form (see ReadForm). When the request is not to be served further it has
// written the answer itself and reports false.
func readPOSTForm(w http.ResponseWriter, r *http.Request, endpoint string, maxBody int64) (url.Values, bool) {
	if !allowPOST(w, r, endpoint) {
		return nil, false
	}
	form, oerr := ReadForm(w, r, maxBody)
	if oerr != nil {
		WriteError(w, oerr)
		return nil, false
	}
	return form, true
}

// allowPOST lets a POST through. It answers an OPTIONS request (not a CORS
// preflight, which CORS.Wrap answers) with 204 and any other method with
// 405, and returns false for them.
func allowPOST(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	switch r.Method {
	case http.MethodPost:
		return true
	case http.MethodOptions:
		w.Header().Set("Allow", "POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		WriteError(w, &Error{Status: http.StatusMethodNotAllowed, Code: CodeInvalidRequest,
			Description: "the " + endpoint + " endpoint accepts only POST"})
	}
	return false
}

// bearerCredential returns the token of an Authorization: Bearer header
// (RFC 6750 §2.1) and true, or false if the request has no Authorization
// header, several, or one with another scheme. A Bearer header with a
// malformed or empty token returns "" and true.
func bearerCredential(r *http.Request) (string, bool) {
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return "", false
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.Trim(token, " ")
	if token == "" || strings.ContainsFunc(token, func(r rune) bool { return !isB64TokenChar(r) }) {
		return "", true
	}
	return token, true
}

// isB64TokenChar reports whether r may appear in an RFC 6750 b64token.
func isB64TokenChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		strings.ContainsRune("-._~+/=", r)
}

// isScopeChar reports whether r may appear in a scope token (RFC 6749
// §3.3): %x21 / %x23-5B / %x5D-7E.
func isScopeChar(r rune) bool {
	return r == 0x21 || 0x23 <= r && r <= 0x5b || 0x5d <= r && r <= 0x7e
}

// writeBearerChallenge refuses a request whose caller did not present a
// usable bearer token (RFC 6750 §3): a WWW-Authenticate: Bearer challenge
// with code, description and scope (all constant, safe strings; code ""
// for a request without credentials), and the same as a JSON error body.
func writeBearerChallenge(w http.ResponseWriter, status int, code, description, scope string) {
	challenge := "Bearer"
	if code != "" {
		challenge += ` error="` + code + `", error_description="` + description + `"`
		if scope != "" {
			challenge += `, scope="` + scope + `"`
		}
	} else {
		code, description = "invalid_token", "a bearer token is required"
	}
	w.Header().Set("WWW-Authenticate", challenge)
	WriteError(w, &Error{Status: status, Code: code, Description: description})
}

// oauthErrorOf returns err as an *Error, or returns server_error; either
// is logged if it is a server-side failure (5xx).
func oauthErrorOf(ctx context.Context, logger *slog.Logger, err error) *Error {
	e := (*Error)(nil)
	if !errors.As(err, &e) {
		e = errServer(err)
	}
	if e.Status >= http.StatusInternalServerError {
		logger.ErrorContext(ctx, "authserver: client authentication failed", slog.String("code", e.Code), slog.Any("error", e.Err))
	}
	return e
}

// storeUnavailable reports whether err is a failure of a store or of a
// verifier that depends on one (answered 503 temporarily_unavailable),
// rather than a fault of the server (500).
func storeUnavailable(err error) bool {
	return errors.Is(err, errStoreUnavailable) || errors.Is(err, middleware.ErrVerifierUnavailable)
}

// errStoreUnavailable marks the errors of Introspect and Revoke that come
// from a failing or silent store.
var errStoreUnavailable = errors.New("authserver: token store unavailable")

// storeFailure wraps a store error that is not a fact about the records in
// errStoreUnavailable.
func storeFailure(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", errStoreUnavailable, what, err)
}

// endpointBase is what the introspection and revocation endpoints share:
// the store (under its deadline), client authentication, a verifier of our
// own access tokens, limits, audit, logging and the clock, with their
// defaults applied.
type endpointBase struct {
	store    tokenstore.Store // a deadlineStore
	access   middleware.TokenVerifier
	clients  Authenticator
	maxBody  int64
	maxToken int
	audit    AuditFunc
	logger   *slog.Logger
	now      func() time.Time
}

// endpointConfig is the input of newEndpointBase.
type endpointConfig struct {
	issuer, audience string
	store            tokenstore.Store
	storeTimeout     time.Duration
	keys             *KeySet
	clients          Authenticator
	maxBody          int64
	maxToken         int
	audit            AuditFunc
	logger           *slog.Logger
	now              func() time.Time
}

// newEndpointBase applies the defaults (DefaultStoreTimeout,
// DefaultMaxTokenSize, slog.Default, SlogAudit, time.Now) and builds the
// access-token verifier from the key set, issuer and audience.
func newEndpointBase(c endpointConfig) (endpointBase, error) {
	b := endpointBase{
		store:   deadlineStore{c.store, storeTimeout(c.storeTimeout)},
		clients: c.clients, maxBody: c.maxBody, maxToken: c.maxToken,
		audit: c.audit, logger: c.logger, now: c.now,
	}
	if b.maxToken == 0 {
		b.maxToken = middleware.DefaultMaxTokenSize
	}
	if b.logger == nil {
		b.logger = slog.Default()
	}
	if b.audit == nil {
		b.audit = SlogAudit(c.logger)
	}
	if b.now == nil {
		b.now = time.Now
	}
	access, err := c.keys.AccessTokenVerifier(middleware.JWTConfig{
		Issuers: []string{c.issuer}, Audience: c.audience, Now: b.now, MaxTokenSize: b.maxToken,
	})
	if err != nil {
		return endpointBase{}, err
	}
	b.access = access
	return b, nil
}
