package authserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartauth/smartauth/tokenstore"
)

// Error codes of the authorization endpoint (RFC 6749 §4.1.2.1, OpenID
// Connect Core §3.1.2.6), besides those of the token endpoint.
const (
	CodeAccessDenied            = "access_denied"
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeInteractionRequired     = "interaction_required"
	CodeRequestNotSupported     = "request_not_supported"
	CodeRequestURINotSupported  = "request_uri_not_supported"
)

// Bounds of the request parameters echoed or kept.
const (
	maxStateLen = 1024
	maxNonceLen = 1024
	maxScopeLen = 4096
)

// authzError is an error of the authorization endpoint: shown to the user
// when redirectURI is empty, else sent to redirectURI with state.
type authzError struct {
	*Error
	redirectURI, state string
}

// start checks an authorization request and, if it is valid, begins its
// steps.
func (h *AuthorizationHandler) start(w http.ResponseWriter, r *http.Request, params url.Values) {
	ctx := r.Context()
	st, client, aerr := h.checkRequest(ctx, params)
	if aerr != nil {
		h.fail(w, r, aerr, params.Get("client_id"))
		return
	}
	st.ID = tokenstore.NewID()
	st.Expires = h.now().Add(h.interactionLifetime).UnixMilli()
	st.Bind = h.cookie.bind(w, r)
	h.proceed(w, r, st, client, nil)
}

// checkRequest validates an authorization request, in the order the
// AuthorizationHandler documents, and consumes its launch, if any.
func (h *AuthorizationHandler) checkRequest(ctx context.Context, p url.Values) (*interactionState, *Client, *authzError) {
	show := func(code, desc string) *authzError {
		return &authzError{Error: &Error{Code: code, Description: desc}}
	}
	clientID := p.Get("client_id")
	if clientID == "" {
		return nil, nil, show(CodeInvalidRequest, "client_id is required")
	}
	client, err := h.lookupClient(ctx, clientID)
	switch {
	case errors.Is(err, ErrUnknownClient):
		return nil, nil, show(CodeInvalidRequest, "the client is not registered")
	case err != nil:
		return nil, nil, &authzError{Error: h.storeError(ctx, err)}
	case len(client.RedirectURIs) == 0:
		return nil, nil, show(CodeUnauthorizedClient, "the client is not registered for the authorization code flow (no redirect URI)")
	}
	requested := p.Get("redirect_uri")
	redirectURI, ok := registeredRedirectURI(client, requested)
	if !ok {
		if requested == "" {
			return nil, nil, show(CodeInvalidRequest, "redirect_uri is required: the client has several")
		}
		return nil, nil, show(CodeInvalidRequest, "redirect_uri is not registered for the client")
	}

	// From here on, errors go to the app.
	state := p.Get("state")
	redirect := func(code, desc string) *authzError {
		return &authzError{Error: &Error{Code: code, Description: desc}, redirectURI: redirectURI, state: state}
	}
	if len(state) > maxStateLen || !isVSCHARs(state) {
		state = ""
		return nil, nil, redirect(CodeInvalidRequest, fmt.Sprintf("state must be at most %d printable ASCII characters", maxStateLen))
	}
	switch {
	case p.Has("request"):
		return nil, nil, redirect(CodeRequestNotSupported, "request objects are not supported")
	case p.Has("request_uri"):
		return nil, nil, redirect(CodeRequestURINotSupported, "request_uri is not supported")
	case !p.Has("response_type"):
		return nil, nil, redirect(CodeInvalidRequest, "response_type is required")
	case p.Get("response_type") != "code":
		return nil, nil, redirect(CodeUnsupportedResponseType, "the only response_type supported is code")
	case state == "":
		return nil, nil, redirect(CodeInvalidRequest, "state is required")
	case !p.Has("aud"):
		return nil, nil, redirect(CodeInvalidRequest, "aud is required: the FHIR base URL of the server")
	case strings.TrimSuffix(p.Get("aud"), "/") != h.audience:
		return nil, nil, redirect(CodeInvalidRequest, "aud is not the FHIR base URL of this server")
	case !p.Has("code_challenge"):
		return nil, nil, redirect(CodeInvalidRequest, "code challenge required (PKCE, S256)")
	case p.Get("code_challenge_method") != CodeChallengeS256:
		return nil, nil, redirect(CodeInvalidRequest, "transform algorithm not supported: code_challenge_method must be S256")
	case !validS256Challenge(p.Get("code_challenge")):
		return nil, nil, redirect(CodeInvalidRequest, "code_challenge is not an S256 challenge (43 base64url characters)")
	case len(p.Get("nonce")) > maxNonceLen || !isVSCHARs(p.Get("nonce")):
		return nil, nil, redirect(CodeInvalidRequest, fmt.Sprintf("nonce must be at most %d printable ASCII characters", maxNonceLen))
	}
	scope, ok := normalizeScope(p.Get("scope"))
	switch {
	case !p.Has("scope"):
		return nil, nil, redirect(CodeInvalidScope, "scope is required")
	case !ok:
		return nil, nil, redirect(CodeInvalidScope, fmt.Sprintf("scope is malformed or longer than %d bytes", maxScopeLen))
	case hasPromptNone(p.Get("prompt")):
		return nil, nil, redirect(CodeInteractionRequired, "prompt=none is not supported: the user must take part")
	case p.Has("launch") && !hasScope(scope, "launch"):
		return nil, nil, redirect(CodeInvalidRequest, "the launch parameter needs the launch scope")
	case hasScope(scope, "launch") && !p.Has("launch"):
		return nil, nil, redirect(CodeInvalidRequest, "the launch scope needs the launch parameter of an EHR launch")
	}

	st := &interactionState{Req: authorizationRequest{
		ClientID: client.ID, RedirectURI: redirectURI, RedirectGiven: requested != "", State: state,
		CodeChallenge: p.Get("code_challenge"), Nonce: p.Get("nonce"), Scope: scope,
	}}
	if v := p.Get("launch"); v != "" {
		rec, ok, err := h.consumeLaunch(ctx, v, client.ID)
		switch {
		case err != nil:
			e := h.storeError(ctx, err)
			return nil, nil, redirect(e.Code, e.Description)
		case !ok:
			return nil, nil, redirect(CodeInvalidRequest, "the launch is unknown, used, expired or another client's")
		}
		st.Req.EHR, st.Req.LaunchSubject, st.Launch = true, rec.Subject, rec.Context
	}
	return st, client, nil
}

// lookupClient returns the registered client id, or an error wrapping
// ErrUnknownClient, or a store failure.
func (h *AuthorizationHandler) lookupClient(ctx context.Context, id string) (*Client, error) {
	c, err := callWithDeadline(ctx, h.storeTimeout, func(ctx context.Context) (*Client, error) {
		return h.clients.Client(ctx, id)
	})
	switch {
	case errors.Is(err, ErrUnknownClient):
		return nil, ErrUnknownClient
	case err != nil:
		return nil, fmt.Errorf("authserver: client store: %w", err)
	case c == nil || c.ID != id:
		return nil, errors.New("authserver: client store returned no client or another one")
	}
	return c, nil
}

// storeError logs a failure of a store and returns the error to answer:
// temporarily_unavailable.
func (h *AuthorizationHandler) storeError(ctx context.Context, err error) *Error {
	h.logger.ErrorContext(ctx, "authserver: authorization endpoint: store failed", slog.Any("error", err))
	return errUnavailable("the authorization server is temporarily unavailable; try again later", err)
}

// normalizeScope returns scope with single spaces and without repeated
// tokens, and whether it is a non-empty, well-formed scope (RFC 6749
// §3.3) of at most maxScopeLen bytes.
func normalizeScope(scope string) (string, bool) {
	if len(scope) > maxScopeLen {
		return "", false
	}
	var b strings.Builder
	for tok := range strings.FieldsSeq(scope) {
		if strings.ContainsFunc(tok, func(r rune) bool { return !isScopeChar(r) }) {
			return "", false
		}
		if hasScope(b.String(), tok) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(tok)
	}
	if strings.ContainsFunc(scope, func(r rune) bool { return r != ' ' && !isScopeChar(r) }) {
		return "", false
	}
	return b.String(), b.Len() > 0
}

// isVSCHARs reports whether s holds only VSCHAR (%x20-7E, RFC 6749
// Appendix A), as state and nonce must.
func isVSCHARs(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// hasPromptNone reports whether an OpenID Connect prompt value holds none.
func hasPromptNone(prompt string) bool { return hasScope(prompt, "none") }
