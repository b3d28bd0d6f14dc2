package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/smartauth/smartauth/middleware/scope"
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
// §4.14.2) — unless it is the same client's retry within the retry window
// (TokenConfig.RetryWindow), which supersedes the successor issued before.
//
// The optional scope parameter narrows the access token: every requested
// scope token must be covered by the grant's original scope (narrowScope),
// else invalid_scope (and the refresh token is not consumed). The new refresh
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
	presented := tokenstore.ParseRefreshToken(presentedToken)
	clientID := req.Client.ID
	requested := req.Form.Get("scope")

	// The successor's value names the grant, so the grant ID must be known
	// before Rotate: a token made by NewRefreshToken names it (and its
	// hash covers the name, so a wrong name is an unknown token); a token
	// chosen by the host does not, and is looked up.
	//
	// A scope that is not a subset must be refused without consuming the
	// token, so it is checked before Rotate too. The grant's scope never
	// changes, so the check cannot race with a rotation. A live token of
	// this client is refused with invalid_scope. Any other token goes on
	// to Rotate, which gives the same answer as without scope — with no
	// retry allowed, so that it can only fail: an already used token is
	// then reuse, as it would be outside the retry window. (A client's
	// genuine retry repeats a request that was accepted, so its scope
	// was valid.)
	grantID, lookedUp := presented.GrantID, false
	retryWindow := h.retryWindow
	if requested != "" || grantID == "" {
		g, tok, err := h.store.LookupToken(ctx, presented)
		if err != nil {
			return nil, h.refreshFailed(ctx, clientID, "", err)
		}
		grantID, lookedUp = g.ID, true
		if _, ok := narrowScope(requested, g.Scope); requested != "" && !ok {
			if g.ClientID == clientID && tok.Check(g, h.now()) == nil {
				return nil, h.scopeRefused(ctx, clientID, g.ID)
			}
			retryWindow = 0
		}
	}

	next, nextRef := tokenstore.NewRefreshToken(grantID)
	res, err := h.store.Rotate(ctx, tokenstore.RotateRequest{
		Presented:   presented,
		Next:        nextRef.Hash,
		ClientID:    clientID,
		Now:         h.now(), // as late as possible: it decides expiry
		RetryWindow: retryWindow,
	})
	if err != nil {
		auditGrant := grantID
		if !lookedUp && (errors.Is(err, tokenstore.ErrNotFound) || !tokenstore.IsRecordError(err)) {
			auditGrant = "" // named by the presented value only, unconfirmed
		}
		return nil, h.refreshFailed(ctx, clientID, auditGrant, err)
	}
	g := res.Grant
	scope := g.Scope
	if requested != "" {
		var ok bool
		if scope, ok = narrowScope(requested, g.Scope); !ok {
			// Unreachable: with a scope found invalid before, Rotate
			// cannot succeed (the token was used, and no retry allowed)
			// or was not called.
			return nil, errServer(errors.New("authserver: rotation accepted a token with an invalid scope"))
		}
	}
	resp, err := h.IssueTokens(ctx, g, scope, next)
	if err != nil {
		// The token was rotated: the client's retry within the retry
		// window gets new tokens.
		h.audit(ctx, AuditEvent{Kind: AuditRefreshFailed, ClientID: clientID, GrantID: g.ID, Reason: "server_error", Time: h.now()})
		return nil, err
	}
	reason := ""
	if res.Retry {
		reason = "retry"
	}
	h.audit(ctx, AuditEvent{Kind: AuditRefreshSucceeded, ClientID: clientID, GrantID: g.ID, Reason: reason, Time: h.now()})
	return resp, nil
}

// refreshFailed audits a failed rotation or lookup and returns the OAuth
// error: invalid_grant, always with the same description, for facts about
// the records; temporarily_unavailable for a failing or silent store.
// grantID names the family in the audit event, if known.
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
		// ErrConflict (a successor value that already exists: 256 random
		// bits make it impossible) and store failures alike: nothing was
		// changed, or the retry rule covers what was.
		ev.Reason = "store_error"
		if errors.Is(err, errStoreDeadline) {
			ev.Reason = "store_timeout"
		}
		h.audit(ctx, ev)
		return errUnavailable(unavailableDescription, fmt.Errorf("authserver: token store: %w", err)) // logged by the handler
	}
	h.audit(ctx, ev)
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidGrant, Description: invalidGrantDescription, Err: err}
}

// unavailableDescription is the description of every
// temporarily_unavailable answer of the token endpoint.
const unavailableDescription = "the authorization server is temporarily unavailable; retry the request later"

func (h *TokenHandler) scopeRefused(ctx context.Context, clientID, grantID string) error {
	h.audit(ctx, AuditEvent{Kind: AuditRefreshFailed, ClientID: clientID, GrantID: grantID, Reason: "invalid_scope", Time: h.now()})
	return &Error{Code: CodeInvalidScope, Description: "the requested scope exceeds the scope originally granted"}
}

// narrowScope returns the requested scope, normalised (single spaces, no
// duplicates, in request order), and whether every one of its tokens is
// covered by the granted scope by meaning (scope.Set.Covers): RFC 6749 §6
// forbids only scopes "not originally granted", so patient/*.rs covers
// patient/Observation.rs, patient/*.read covers patient/Observation.rs, and
// patient/Observation.rs covers patient/Observation.rs?category=laboratory
// — never the reverse. Non-clinical scopes (openid, launch/patient,
// offline_access, ...) must appear literally. An empty request is not a
// subset.
func narrowScope(requested, granted string) (string, bool) {
	set := scope.Parse(granted)
	var b strings.Builder
	n := 0
	for tok := range strings.FieldsSeq(requested) {
		if !set.Covers(tok) {
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
