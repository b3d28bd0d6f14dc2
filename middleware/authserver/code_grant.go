package authserver

import (
	"context"
	"errors"
	"net/http"
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
// then not consumed).
//
// The code is then redeemed by one atomic store operation
// (tokenstore.CodeStore.RedeemCode), once, whatever follows: the store
// checks that the code is known, unused, the client's and unexpired, that
// redirect_uri is the authorization request's (when it named one; else
// absent or registered for the client) and that the S256 of the
// code_verifier is the code_challenge (RFC 6749 §4.1.3, RFC 7636 §4.6),
// and creates the grant with the code's grant ID and its first refresh
// token. A code that is unknown, expired, already used or another
// client's is invalid_grant with one description; a wrong redirect_uri or
// code_verifier is invalid_grant saying which. A used code presented
// again revokes the grant made from it and every token issued from that
// grant (RFC 6749 §4.1.2); a code presented by another client or with the
// wrong redirect_uri or code_verifier is consumed, so the first
// presentation is the only one that can succeed: of any number of
// concurrent exchanges of a code, exactly one gets tokens, and they are
// revoked by the others.
//
// The tokens are issued as a refresh issues them
// (TokenHandler.IssueTokens): access token, granted scope, SMART launch
// context, and an ID token with the request's nonce and the user's
// auth_time when openid was granted. The grant is offline
// (TokenConfig.OfflineLifetime) with offline_access, else online. A
// refresh token is returned only when offline_access or online_access was
// granted; otherwise the grant has none, and lives on for the revocation
// of the access tokens that name it. A store that fails is answered 503
// temporarily_unavailable; the code may have been consumed by then (and
// the grant created), so the client's retry gets invalid_grant, revokes
// that grant, and the user authorizes again.
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

	now := h.now()
	refreshToken, first := tokenstore.NewRefreshToken(ref.GrantID)
	redeem := tokenstore.RedeemRequest{
		Code:               ref,
		ClientID:           client.ID,
		Now:                now,
		RedirectURI:        req.Form.Get("redirect_uri"),
		ClientRedirectURIs: client.RedirectURIs,
		CodeChallenge:      s256Challenge(verifier),
		Grant: func(c tokenstore.AuthorizationCode) tokenstore.GrantTemplate {
			kind, life := h.grantKind(c.Scope)
			t := tokenstore.GrantTemplate{ExpiresAt: now.Add(life.Absolute), IdleTimeout: life.Idle, Kind: kind}
			if hasScope(c.Scope, "offline_access") || hasScope(c.Scope, "online_access") {
				t.RefreshToken = first.Hash
			}
			return t
		},
	}
	res, err := callWithDeadline(ctx, h.storeDeadline(), func(ctx context.Context) (tokenstore.RedeemResult, error) {
		return cg.codes.RedeemCode(ctx, redeem)
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
	case errors.Is(err, tokenstore.ErrRedirectMismatch):
		h.audit(ctx, AuditEvent{Kind: AuditCodeRefused, ClientID: client.ID, GrantID: ref.GrantID, Reason: "redirect_uri", Time: h.now()})
		return nil, &Error{Code: CodeInvalidGrant, Description: "redirect_uri is not the one of the authorization request", Err: err}
	case errors.Is(err, tokenstore.ErrChallengeMismatch):
		h.audit(ctx, AuditEvent{Kind: AuditCodeRefused, ClientID: client.ID, GrantID: ref.GrantID, Reason: "code_verifier", Time: h.now()})
		return nil, &Error{Code: CodeInvalidGrant, Description: "code_verifier does not match the code_challenge", Err: err}
	case errors.Is(err, tokenstore.ErrConflict):
		// A grant with the code's ID exists: the host created it outside
		// the code flow. The code is left unused, and nothing is issued.
		return nil, h.codeRefused(ctx, client.ID, ref.GrantID, "conflict", err)
	case err != nil:
		return nil, h.codeStoreFailed(ctx, client.ID, ref.GrantID, err)
	}

	g := res.Grant
	h.audit(ctx, AuditEvent{Kind: AuditGrantCreated, ClientID: g.ClientID, GrantID: g.ID, Reason: string(g.Kind), Time: now})
	if res.Token.Hash.IsZero() {
		refreshToken = "" // no offline_access or online_access: the grant has none
	}
	resp, err := h.issueTokens(ctx, g, g.Scope, refreshToken, authentication{nonce: res.Code.Nonce, authTime: res.Code.AuthTime})
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
