package authserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// invalidCodeDescription is the one description of every code the store
// refuses: unknown, expired, used or another client's look the same.
const invalidCodeDescription = "the authorization code is invalid, expired or already used"

// codeGrant is the authorization_code grant (RFC 6749 §4.1.3, SMART App
// Launch "Obtain access token").
type codeGrant struct{ codes tokenstore.CodeStore }

// NewCodeGrant returns the authorization_code grant of the token endpoint,
// which exchanges the codes of an AuthorizationHandler kept in codes (the
// same store as the endpoint's); add it to TokenConfig.Grants. The
// token endpoint's StoreTimeout bounds its store calls.
//
// The client is authenticated by the token endpoint as for every grant (a
// public client by its client_id only: PKCE protects its codes), and must
// have RedirectURIs (else unauthorized_client). The request needs code and
// code_verifier (invalid_request when missing or malformed; the code is
// then not consumed). The code is redeemed once, whatever follows: a code
// that is unknown, expired, already used or another client's is
// invalid_grant with one description, and a used code presented again
// revokes the grant made from it and every token issued from that grant
// (RFC 6749 §4.1.2) — a code issued to another client is consumed too.
// Then redirect_uri must be the authorization request's, when it named
// one (else absent or registered), and the code_verifier's S256 must be
// the code_challenge (RFC 7636 §4.6); either mismatch is invalid_grant.
//
// The grant is then created with the code's grant ID (see
// TokenHandler.CreateGrant) and the tokens issued as a refresh issues
// them (TokenHandler.IssueTokens): access token, granted scope, SMART
// launch context, and an ID token with the request's nonce and the
// user's auth_time when openid was granted. A refresh token is returned
// only when offline_access or online_access was granted. A store that
// fails is answered 503 temporarily_unavailable; the code may have been
// consumed by then, so the client's retry gets invalid_grant and the
// user authorizes again.
func NewCodeGrant(codes tokenstore.CodeStore) GrantHandler { return codeGrant{codes: codes} }

// GrantType returns "authorization_code".
func (codeGrant) GrantType() string { return GrantTypeAuthorizationCode }

// HandleGrant exchanges a code for tokens.
func (cg codeGrant) HandleGrant(ctx context.Context, req *TokenRequest) (*TokenResponse, error) {
	h := req.Handler
	if h == nil {
		return nil, errors.New("authserver: the authorization_code grant needs TokenRequest.Handler")
	}
	client := req.Client
	code, verifier := req.Form.Get("code"), req.Form.Get("code_verifier")
	switch {
	case len(client.RedirectURIs) == 0:
		return nil, &Error{Code: CodeUnauthorizedClient, Description: "the client is not registered for the authorization code flow"}
	case code == "":
		return nil, &Error{Code: CodeInvalidRequest, Description: "code is required"}
	case verifier == "":
		return nil, &Error{Code: CodeInvalidRequest, Description: "code_verifier is required (PKCE)"}
	case !validCodeVerifier(verifier):
		return nil, &Error{Code: CodeInvalidRequest, Description: "code_verifier must be 43 to 128 unreserved characters (RFC 7636 §4.1)"}
	}
	ref := tokenstore.ParseRefreshToken(code)
	if ref.GrantID == "" { // every code names its grant
		return nil, h.codeRefused(ctx, client.ID, "", "not_found", tokenstore.ErrNotFound)
	}
	c, err := callWithDeadline(ctx, h.storeDeadline(), func(ctx context.Context) (tokenstore.AuthorizationCode, error) {
		return cg.codes.RedeemCode(ctx, tokenstore.RedeemRequest{Code: ref, ClientID: client.ID, Now: h.now()})
	})
	switch {
	case errors.Is(err, tokenstore.ErrReused):
		h.audit(ctx, AuditEvent{Kind: AuditCodeReused, ClientID: client.ID, GrantID: ref.GrantID, Time: h.now()})
		return nil, &Error{Code: CodeInvalidGrant, Description: invalidCodeDescription, Err: err}
	case errors.Is(err, tokenstore.ErrNotFound):
		return nil, h.codeRefused(ctx, client.ID, "", "not_found", err)
	case errors.Is(err, tokenstore.ErrExpired):
		return nil, h.codeRefused(ctx, client.ID, ref.GrantID, "expired", err)
	case errors.Is(err, tokenstore.ErrClientMismatch):
		return nil, h.codeRefused(ctx, client.ID, ref.GrantID, "client_mismatch", err)
	case err != nil:
		return nil, h.codeStoreFailed(ctx, client.ID, ref.GrantID, err)
	}

	if got := req.Form.Get("redirect_uri"); c.RedirectURI != "" && got != c.RedirectURI ||
		c.RedirectURI == "" && got != "" && !slices.Contains(client.RedirectURIs, got) {
		h.audit(ctx, AuditEvent{Kind: AuditCodeRefused, ClientID: client.ID, GrantID: c.GrantID, Reason: "redirect_uri", Time: h.now()})
		return nil, &Error{Code: CodeInvalidGrant, Description: "redirect_uri is not the one of the authorization request"}
	}
	if !verifyS256(verifier, c.CodeChallenge) {
		h.audit(ctx, AuditEvent{Kind: AuditCodeRefused, ClientID: client.ID, GrantID: c.GrantID, Reason: "code_verifier", Time: h.now()})
		return nil, &Error{Code: CodeInvalidGrant, Description: "code_verifier does not match the code_challenge"}
	}

	launch, err := unmarshalLaunch(c.LaunchContext)
	if err != nil {
		return nil, err
	}
	token, g, err := h.createGrant(ctx, NewGrant{
		ClientID: c.ClientID, Subject: c.Subject, FHIRUser: c.FHIRUser, Scope: c.Scope, Launch: launch,
	}, c.GrantID)
	switch {
	case errors.Is(err, tokenstore.ErrConflict):
		// The code was presented again while it was exchanged: the store
		// put a revoked grant in this one's place.
		return nil, h.codeRefused(ctx, client.ID, c.GrantID, "conflict", err)
	case err != nil:
		return nil, h.codeStoreFailed(ctx, client.ID, c.GrantID, err)
	}
	// The grant's first refresh token is handed out only for offline or
	// online access; otherwise nobody ever holds it, and the grant lives
	// on for the revocation of the access tokens that name it.
	if !hasScope(g.Scope, "offline_access") && !hasScope(g.Scope, "online_access") {
		token = ""
	}
	resp, err := h.issueTokens(ctx, g, g.Scope, token, authentication{nonce: c.Nonce, authTime: c.AuthTime})
	if err != nil {
		return nil, err
	}
	h.audit(ctx, AuditEvent{Kind: AuditCodeExchanged, ClientID: client.ID, GrantID: g.ID, Time: h.now()})
	return resp, nil
}

// storeDeadline is the StoreTimeout of the handler.
func (h *TokenHandler) storeDeadline() time.Duration {
	if d, ok := h.store.(deadlineStore); ok {
		return d.timeout
	}
	return DefaultStoreTimeout
}

// codeRefused audits a refused code and returns invalid_grant.
func (h *TokenHandler) codeRefused(ctx context.Context, clientID, grantID, reason string, err error) error {
	h.audit(ctx, AuditEvent{Kind: AuditCodeRefused, ClientID: clientID, GrantID: grantID, Reason: reason, Time: h.now()})
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidGrant, Description: invalidCodeDescription, Err: err}
}

// codeStoreFailed audits a store failure of the code exchange and returns
// temporarily_unavailable.
func (h *TokenHandler) codeStoreFailed(ctx context.Context, clientID, grantID string, err error) error {
	reason := "store_error"
	if errors.Is(err, errStoreDeadline) {
		reason = "store_timeout"
	}
	h.audit(ctx, AuditEvent{Kind: AuditCodeRefused, ClientID: clientID, GrantID: grantID, Reason: reason, Time: h.now()})
	return errUnavailable(unavailableDescription, err)
}
