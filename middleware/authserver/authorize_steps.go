package authserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// resume continues an authorization with the post of a step's page.
func (h *AuthorizationHandler) resume(w http.ResponseWriter, r *http.Request, values url.Values) {
	ctx := r.Context()
	if err := h.crossOrigin.Check(r); err != nil {
		h.show(w, r, &Error{Status: http.StatusForbidden, Code: CodeInvalidRequest,
			Description: "a form posted from another site is refused", Err: err})
		return
	}
	restart := " Start again from the app."
	if len(values[InteractionField]) != 1 {
		h.show(w, r, &Error{Code: CodeInvalidRequest, Description: "the form holds the authorization more than once." + restart})
		return
	}
	st, err := h.sealer.open(values.Get(InteractionField))
	if err != nil {
		h.show(w, r, &Error{Code: CodeInvalidRequest, Description: "the form does not hold an authorization of this server." + restart, Err: err})
		return
	}
	if !h.cookie.check(r, st.Bind) {
		h.show(w, r, &Error{Code: CodeInvalidRequest,
			Description: "the authorization was started in another browser, or this browser refused its cookie." + restart, Err: errInteractionBrowser})
		return
	}
	client, err := h.lookupClient(ctx, st.Req.ClientID)
	switch {
	case errors.Is(err, ErrUnknownClient):
		h.show(w, r, &Error{Code: CodeInvalidRequest, Description: "the client is not registered any more"})
		return
	case err != nil:
		h.show(w, r, h.storeError(ctx, err))
		return
	case !slices.Contains(client.RedirectURIs, st.Req.RedirectURI):
		h.show(w, r, &Error{Code: CodeInvalidRequest, Description: "the redirect URI is not registered for the client any more"})
		return
	}
	if h.now().UnixMilli() >= st.Expires {
		h.refuse(w, r, st, &Error{Code: CodeAccessDenied, Description: "the authorization was not completed in time"})
		return
	}
	answer := make(url.Values, len(values)-1)
	for k, v := range values {
		if k != InteractionField {
			answer[k] = v
		}
	}
	h.proceed(w, r, st, client, answer)
}

// proceed runs the steps of st that are not over, giving answer to the
// step whose page was posted, and issues the code when they are.
func (h *AuthorizationHandler) proceed(w http.ResponseWriter, r *http.Request, st *interactionState, client *Client, answer url.Values) {
	shown := *client
	shown.SecretHash = "" // the steps have no use for it
	in := &Interaction{
		Client: shown, RedirectURI: st.Req.RedirectURI, Scope: st.Req.Scope,
		EHRLaunch: st.Req.EHR, Launch: st.Launch, User: st.User.user(), action: h.endpoint,
	}
	answering := st.Step
	answerOf := func(step string) url.Values {
		if step == answering {
			return answer
		}
		return nil
	}

	if st.User == nil {
		u, ok := runStep(h, w, r, st, in, stepLogin, answerOf(stepLogin), h.login.Authenticate)
		if !ok {
			return
		}
		switch {
		case u.Subject == "" || len(u.Subject) > 255 || !isVSCHARs(u.Subject):
			h.refuse(w, r, st, h.stepFailed(r.Context(), stepLogin, errors.New("Login returned a user without a valid Subject")))
			return
		case st.Req.LaunchSubject != "" && u.Subject != st.Req.LaunchSubject:
			h.refuse(w, r, st, &Error{Code: CodeAccessDenied, Description: "the EHR launched the app for another user"})
			return
		}
		authTime := u.AuthTime
		if authTime.IsZero() {
			authTime = h.now()
		}
		st.User = &sealedUser{Subject: u.Subject, FHIRUser: u.FHIRUser, AuthTime: authTime.UnixMilli()}
		in.User = st.User.user()
	}

	needPatient := hasScope(st.Req.Scope, "launch/patient") && st.Launch.Patient == ""
	needEncounter := hasScope(st.Req.Scope, "launch/encounter") && st.Launch.Encounter == ""
	if h.patients != nil && !st.Picked && (needPatient || needEncounter) {
		in.NeedPatient, in.NeedEncounter = needPatient, needEncounter
		sel, ok := runStep(h, w, r, st, in, stepPatient, answerOf(stepPatient), h.patients.PickPatient)
		if !ok {
			return
		}
		if sel.Patient != "" && !isFHIRID(sel.Patient) || sel.Encounter != "" && !isFHIRID(sel.Encounter) {
			h.refuse(w, r, st, h.stepFailed(r.Context(), stepPatient, errors.New("PatientPicker returned an id that is not a FHIR id")))
			return
		}
		st.Picked = true
		if needPatient {
			st.Launch.Patient = sel.Patient
		}
		if needEncounter {
			st.Launch.Encounter = sel.Encounter
		}
		in.Launch, in.NeedPatient, in.NeedEncounter = st.Launch, false, false
	}

	granted, ok := runStep(h, w, r, st, in, stepConsent, answerOf(stepConsent), h.consent.Approve)
	if !ok {
		return
	}
	h.complete(w, r, st, granted)
}

// runStep calls one step with the interaction sealed for its page, and
// returns its result and true when it is done. Otherwise the response has
// been written: the step's page, or the refusal of its error.
func runStep[T any](h *AuthorizationHandler, w http.ResponseWriter, r *http.Request, st *interactionState, in *Interaction,
	step string, answer url.Values, call func(http.ResponseWriter, *http.Request, *Interaction) (T, bool, error)) (T, bool) {
	var zero T
	st.Step = step
	sealed, err := h.sealer.seal(st)
	if err != nil {
		h.refuse(w, r, st, h.stepFailed(r.Context(), step, err))
		return zero, false
	}
	in.sealed, in.Answer = sealed, answer
	sw := &stepWriter{ResponseWriter: w}
	v, done, err := call(sw, r, in)
	in.Answer = nil
	switch {
	case sw.wrote && (done || err != nil):
		h.logger.ErrorContext(r.Context(), "authserver: an authorization step wrote a response and did not wait for the user",
			slog.String("step", step), slog.Bool("done", done), slog.Any("error", err))
		return zero, false
	case errors.Is(err, ErrAccessDenied):
		h.refuse(w, r, st, &Error{Code: CodeAccessDenied, Description: "the authorization was refused"})
		return zero, false
	case err != nil:
		h.refuse(w, r, st, h.stepFailed(r.Context(), step, err))
		return zero, false
	case !done && !sw.wrote:
		h.refuse(w, r, st, h.stepFailed(r.Context(), step, errors.New("the step neither answered nor wrote a page")))
		return zero, false
	case !done:
		return zero, false
	}
	return v, true
}

// stepWriter records whether a step wrote a response.
type stepWriter struct {
	http.ResponseWriter
	wrote bool
}

func (s *stepWriter) WriteHeader(code int) {
	s.wrote = true
	s.ResponseWriter.WriteHeader(code)
}

func (s *stepWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *stepWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// stepFailed logs the failure of a step and returns server_error.
func (h *AuthorizationHandler) stepFailed(ctx context.Context, step string, err error) *Error {
	h.logger.ErrorContext(ctx, "authserver: authorization step failed", slog.String("step", step), slog.Any("error", err))
	return &Error{Status: http.StatusInternalServerError, Code: CodeServerError,
		Description: "the authorization server could not handle the request", Err: err}
}

// complete issues the code of an authorization whose steps are over.
func (h *AuthorizationHandler) complete(w http.ResponseWriter, r *http.Request, st *interactionState, granted string) {
	ctx := r.Context()
	scope, launch, err := grantedScope(st, granted)
	if err != nil {
		h.refuse(w, r, st, h.stepFailed(ctx, stepConsent, err))
		return
	}
	if scope == "" {
		h.refuse(w, r, st, &Error{Code: CodeAccessDenied, Description: "no scope was granted"})
		return
	}
	now := h.now()
	_, err = callWithDeadline(ctx, h.storeTimeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, h.store.UseOnce(ctx, "authorize:"+st.ID, time.UnixMilli(st.Expires), now)
	})
	switch {
	case errors.Is(err, tokenstore.ErrReplayed):
		h.show(w, r, &Error{Code: CodeInvalidRequest, Description: "this authorization is already complete"})
		return
	case err != nil:
		h.refuse(w, r, st, h.storeError(ctx, err))
		return
	}
	lc, err := marshalLaunch(launch)
	if err != nil {
		h.refuse(w, r, st, h.stepFailed(ctx, stepConsent, err))
		return
	}
	grantID := tokenstore.NewID()
	code, ref := tokenstore.NewRefreshToken(grantID)
	redirectURI := ""
	if st.Req.RedirectGiven {
		redirectURI = st.Req.RedirectURI
	}
	u := st.User.user()
	rec := tokenstore.AuthorizationCode{
		Hash: ref.Hash, GrantID: grantID, ClientID: st.Req.ClientID, RedirectURI: redirectURI,
		CodeChallenge: st.Req.CodeChallenge, Scope: scope, Subject: u.Subject, FHIRUser: u.FHIRUser,
		LaunchContext: lc, Nonce: st.Req.Nonce, AuthTime: u.AuthTime,
		IssuedAt: now, ExpiresAt: now.Add(h.codeLifetime),
	}
	_, err = callWithDeadline(ctx, h.storeTimeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, h.store.CreateCode(ctx, rec)
	})
	if err != nil {
		h.refuse(w, r, st, h.storeError(ctx, fmt.Errorf("storing code: %w", err)))
		return
	}
	h.audit(ctx, AuditEvent{Kind: AuditCodeIssued, ClientID: st.Req.ClientID, GrantID: grantID, Time: now})
	h.redirect(w, r, st.Req.RedirectURI, url.Values{"code": {code}, "state": {st.Req.State}})
}

// grantedScope returns the scope and launch context of the code: the
// scope Consent granted, normalised, less the launch context scopes whose
// context is missing, and the context those scopes deliver. An error
// reports a granted scope token that the request does not cover.
func grantedScope(st *interactionState, granted string) (string, Launch, error) {
	if strings.TrimSpace(granted) == "" {
		return "", Launch{}, nil // a refusal
	}
	scope, ok := narrowScope(granted, st.Req.Scope)
	if !ok {
		return "", Launch{}, errors.New("Consent granted a scope the request does not cover")
	}
	var launch Launch
	if st.Req.EHR && hasScope(scope, "launch") {
		launch = st.Launch // the EHR's context, and what was picked
	} else {
		if hasScope(scope, "launch/patient") {
			launch.Patient = st.Launch.Patient
		}
		if hasScope(scope, "launch/encounter") {
			launch.Encounter = st.Launch.Encounter
		}
	}
	var kept []string
	for tok := range strings.FieldsSeq(scope) {
		switch {
		case tok == "launch/patient" && launch.Patient == "",
			tok == "launch/encounter" && launch.Encounter == "":
			continue
		}
		kept = append(kept, tok)
	}
	return strings.Join(kept, " "), launch, nil
}

// refuse sends err to the app at the redirect URI of st (with its state),
// or shows it if it is a failure of this request's own post.
func (h *AuthorizationHandler) refuse(w http.ResponseWriter, r *http.Request, st *interactionState, e *Error) {
	h.fail(w, r, &authzError{Error: e, redirectURI: st.Req.RedirectURI, state: st.Req.State}, st.Req.ClientID)
}

// fail answers an authorization error: shown when it has no redirect URI,
// else sent there.
func (h *AuthorizationHandler) fail(w http.ResponseWriter, r *http.Request, e *authzError, clientID string) {
	if e.redirectURI == "" {
		h.show(w, r, e.Error)
		return
	}
	h.audit(r.Context(), AuditEvent{Kind: AuditAuthorizationRefused, ClientID: clientID, Reason: e.Code, Time: h.now()})
	params := url.Values{"error": {e.Code}, "error_description": {e.Description}}
	if e.state != "" {
		params.Set("state", e.state)
	}
	h.redirect(w, r, e.redirectURI, params)
}

// redirect sends the browser to the registered uri with params and iss
// (RFC 9207), with 303 See Other so that a POST becomes a GET
// (RFC 9700 §4.12).
func (h *AuthorizationHandler) redirect(w http.ResponseWriter, r *http.Request, uri string, params url.Values) {
	params.Set("iss", h.issuer)
	w.Header().Set("Location", withQuery(uri, params))
	w.WriteHeader(http.StatusSeeOther)
}

// show writes an error for the user, never for the app.
func (h *AuthorizationHandler) show(w http.ResponseWriter, r *http.Request, e *Error) {
	if e.Status == 0 {
		e.Status = http.StatusBadRequest
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(retryAfterSeconds(e.RetryAfter)))
	}
	h.errorPage(w, r, e)
}

// isFHIRID reports whether s is a FHIR resource id: [A-Za-z0-9\-\.]{1,64}.
func isFHIRID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
