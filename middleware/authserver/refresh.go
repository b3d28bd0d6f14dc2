package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/smartauth/smartauth/tokenstore"
)

// GrantTypeRefreshToken is the grant_type of the built-in refresh grant.
const GrantTypeRefreshToken = "refresh_token"

// invalidGrantDescription is the one description of every refused refresh
// token: unknown, expired, revoked, reused or another client's all look
// the same to the client.
const invalidGrantDescription = "the refresh token is invalid, expired or revoked"

// refreshGrant is the refresh_token grant (RFC 6749 §6) with rotation: each
// refresh consumes the presented token and issues its successor, and a
// rotated token presented again revokes its whole family (RFC 9700
// §4.14.2).
//
// The optional scope parameter narrows the access token: every requested
// scope token must appear literally in the grant's original scope, else
// invalid_scope (and the refresh token is not consumed). The new refresh
// token keeps the original scope.
type refreshGrant struct{ h *TokenHandler }

// GrantType returns "refresh_token".
func (refreshGrant) GrantType() string { return GrantTypeRefreshToken }

// HandleGrant rotates the presented refresh token and issues new tokens.
func (rg refreshGrant) HandleGrant(ctx context.Context, req *TokenRequest) (*TokenResponse, error) {
	h := rg.h
	presentedToken := req.Form.Get("refresh_token")
	if presentedToken == "" {
		return nil, &Error{Code: CodeInvalidRequest, Description: "refresh_token is required"}
	}
	presented := tokenstore.HashToken(presentedToken)
	clientID := req.Client.ID
	requested := req.Form.Get("scope")

	// A scope that is not a subset must be refused without consuming the
	// token, so it is checked before Rotate. The grant's scope never
	// changes, so the check cannot race with a rotation. A token that is no
	// longer usable goes on to Rotate, which gives the same answer as
	// without scope (and detects reuse).
	if requested != "" {
		g, tok, err := h.store.LookupToken(ctx, presented)
		if err != nil {
			return nil, h.refreshFailed(ctx, clientID, "", err)
		}
		if g.ClientID != clientID {
			return nil, h.refreshFailed(ctx, clientID, "", tokenstore.ErrClientMismatch)
		}
		if _, ok := narrowScope(requested, g.Scope); !ok && tok.Check(g, req.Now) == nil {
			return nil, h.scopeRefused(ctx, clientID, g.ID)
		}
	}

	next, nextHash := tokenstore.NewToken()
	res, err := h.store.Rotate(ctx, tokenstore.RotateRequest{
		Presented: presented, Next: nextHash, ClientID: clientID, Now: req.Now, GracePeriod: h.grace,
	})
	if err != nil {
		grantID := ""
		if errors.Is(err, tokenstore.ErrReused) {
			// Best effort: name the revoked family in the audit event.
			if g, _, lerr := h.store.LookupToken(ctx, presented); lerr == nil {
				grantID = g.ID
			}
		}
		return nil, h.refreshFailed(ctx, clientID, grantID, err)
	}
	g := res.Grant
	scope := g.Scope
	if requested != "" {
		var ok bool
		if scope, ok = narrowScope(requested, g.Scope); !ok {
			// Only reachable for a token accepted in its grace period.
			return nil, h.scopeRefused(ctx, clientID, g.ID)
		}
	}
	resp, err := h.IssueTokens(ctx, g, scope, next)
	if err != nil {
		h.audit(ctx, AuditEvent{Kind: AuditRefreshFailed, ClientID: clientID, GrantID: g.ID, Reason: "server_error", Time: h.now()})
		return nil, err
	}
	reason := ""
	if res.Grace {
		reason = "grace"
	}
	h.audit(ctx, AuditEvent{Kind: AuditRefreshSucceeded, ClientID: clientID, GrantID: g.ID, Reason: reason, Time: h.now()})
	return resp, nil
}

// refreshFailed audits a failed rotation or lookup and returns the OAuth
// error: invalid_grant, always with the same description, for facts about
// the records; server_error for a failing store.
func (h *TokenHandler) refreshFailed(ctx context.Context, clientID, grantID string, err error) error {
	ev := AuditEvent{Kind: AuditRefreshFailed, ClientID: clientID, GrantID: grantID, Time: h.now()}
	switch {
	case errors.Is(err, tokenstore.ErrReused):
		ev.Kind = AuditReuseDetected
	case errors.Is(err, tokenstore.ErrNotFound):
		ev.Reason = "not_found"
	case errors.Is(err, tokenstore.ErrExpired):
		ev.Reason = "expired"
	case errors.Is(err, tokenstore.ErrRevoked):
		ev.Reason = "revoked"
	case errors.Is(err, tokenstore.ErrClientMismatch):
		ev.Reason = "client_mismatch"
	default:
		ev.Reason = "store_error"
		h.audit(ctx, ev)
		return errServer(fmt.Errorf("authserver: token store: %w", err)) // logged by the handler
	}
	h.audit(ctx, ev)
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidGrant, Description: invalidGrantDescription, Err: err}
}

func (h *TokenHandler) scopeRefused(ctx context.Context, clientID, grantID string) error {
	h.audit(ctx, AuditEvent{Kind: AuditRefreshFailed, ClientID: clientID, GrantID: grantID, Reason: "invalid_scope", Time: h.now()})
	return &Error{Code: CodeInvalidScope, Description: "the requested scope exceeds the scope originally granted"}
}

// narrowScope returns the requested scope, normalised (single spaces, no
// duplicates, in request order), and whether every one of its tokens is a
// token of granted. Scope tokens are compared literally (RFC 6749 §6: the
// requested scope "MUST NOT include any scope not originally granted"); no
// SMART scope implication (patient/*.rs covering patient/Observation.rs) is
// applied. An empty request is not a subset.
func narrowScope(requested, granted string) (string, bool) {
	var b strings.Builder
	n := 0
	for tok := range strings.FieldsSeq(requested) {
		if !hasScope(granted, tok) {
			return "", false
		}
		if hasScope(b.String(), tok) {
			continue
		}
		if n > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(tok)
		n++
	}
	return b.String(), n > 0
}
