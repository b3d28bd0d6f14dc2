package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/smartauth/smartauth/middleware/internal/fhirspec"
	"github.com/smartauth/smartauth/middleware/scope"
)

// OperationRule decides which scope a FHIR operation ($op) request needs:
// it returns the interaction and resource type whose scopes allow the
// request (checked like any other request, in the patient/, user/ and
// system/ contexts), or ok false to refuse the request. An interaction no
// scope grants (operation, capabilities, batch) also refuses it. See
// DefaultOperationRule.
type OperationRule func(fr FHIRRequest) (i scope.Interaction, resourceType string, ok bool)

// DefaultOperationRule is the OperationRule used unless WithOperationRule
// replaces it: an instance-level operation ([type]/[id]/$op, e.g.
// Patient/123/$everything) needs read (r) on its type, a type-level one
// ([type]/$op, e.g. ValueSet/$expand) needs search (s) on its type, and a
// system-level one ($op, e.g. $export-poll-status) is refused. Bulk Data
// $export kick-offs are not decided by the OperationRule (see
// RequireFHIRScopes). This is coarse: an
// operation that returns other types (such as $everything) or writes data
// deserves a rule of its own; a custom rule can fall back to
// DefaultOperationRule for the operations it does not handle.
func DefaultOperationRule(fr FHIRRequest) (scope.Interaction, string, bool) {
	switch {
	case fr.ResourceType == "":
		return 0, "", false
	case fr.ID != "":
		return scope.InteractionRead, fr.ResourceType, true
	}
	return scope.InteractionSearch, fr.ResourceType, true
}

// RequireFHIRScopes returns a middleware that enforces SMART scopes on FHIR
// REST requests, down to the data: it runs after Authenticate, reads the
// request's LaunchContext, and lets a request through only if a granted
// clinical scope allows its interaction (c, r, u, d or s; v1 scopes count
// as their v2 equivalents) on its resource type — and, when only patient/
// or constrained scopes allow it, only with the data those scopes permit.
//
// The request-level decision:
//
//   - GET [base]/metadata needs no scope, nor even a LaunchContext (so that
//     it can be served with Authenticate's WithOptionalCredentials);
//   - patient/ scopes count only if the LaunchContext has a patient in
//     context and the request does not name another patient by its path
//     (Patient/[id]..., or a Patient/[id]/... compartment);
//   - system-wide searches and histories (GET [base], [base]/_search,
//     [base]/_history) need a "*" scope (e.g. user/*.s);
//   - Bulk Data $export kick-offs ([base]/$export, [base]/Patient/$export,
//     [base]/Group/[id]/$export) need an unconstrained user/ or system/
//     scope with s on every exported type (_type; without it a "*"
//     scope), and r on the Group for a group export; patient/ and
//     constrained scopes never allow them, since the exported files are
//     served later, outside what the middleware verifies (the status
//     polling and file download endpoints are the server's to protect:
//     serve them to the client that kicked the export off);
//   - other operations need what the OperationRule says
//     (DefaultOperationRule: instance-level r, type-level s, system-level
//     refused);
//   - batch and transaction (POST [base]): every entry is decided as its
//     own request, and one refused entry refuses the whole Bundle.
//
// A request that an unconstrained user/ or system/ scope allows is
// unrestricted: it goes to the next handler untouched (nothing is read or
// buffered). Any other allowed request is restricted, and unless
// WithEnforcementByHandler is given the middleware enforces the
// restriction itself, failing closed:
//
//   - Searches: when only patient/ scopes allow the request, every search
//     parameter that names a patient reference (patient=, subject=Patient/x,
//     subject:Patient=, absolute references, comma lists, repeated
//     parameters, in the URL or a POST _search form) must name the patient
//     in context; chained parameters, _has and _filter are refused under
//     any restricted authorization (their criteria concern resources the
//     response does not contain).
//   - Writes: the resource of a create or update must be permitted, like a
//     resource served, and under a patient/ scope name no other patient in
//     its compartment references (an Observation of the patient performed
//     by another patient lies in both compartments: readable, but not
//     writable); an update, patch or delete needs proof that the
//     current resource is permitted, from the ResourceLoader
//     (WithResourceLoader) — without one such requests are refused.
//     Conditional update, patch and delete are refused; a patch must be a
//     JSON Patch, which is applied to the current resource and the result
//     checked.
//   - Responses: the response is buffered (up to WithMaxBodySize) and
//     every resource in it — Bundle entries, nested Bundles, Parameters
//     resources, contained resources — must be permitted (see
//     Access.Permits) before a byte is sent. Otherwise the whole response
//     is replaced by a 403 OperationOutcome (never a partial Bundle) and an
//     audit event is logged (WithAuditLogger). A response that cannot be
//     verified — not JSON (406 for a successful response), malformed or
//     too large (500) — is never passed through.
//
// The next handler gets the decision with AccessFrom. A request without
// LaunchContext is refused with 401 (Reason "missing_token", ErrMissingToken);
// a request that is not a FHIR REST request ParseFHIRRequest knows, or that
// no scope allows, with 403 insufficient_scope (ErrInsufficientScope; for
// the former the error also wraps ErrNotFHIRRequest), whose scope hint
// names the scopes that would allow it, e.g.
//
//	WWW-Authenticate: Bearer realm="smartauth", error="insufficient_scope", error_description="…", scope="patient/Observation.s user/Observation.s"
//
// Refusals are written by DefaultErrorHandler unless an ErrorOption
// (WithRealm, WithErrorHandler) is given. The middleware composes with http.ServeMux patterns:
//
//	fhir := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"))
//	mux.Handle("GET /fhir/Patient/{id}", authn(fhir(readPatient)))
//
// SMART scopes delegate access: the server must still apply the
// permissions of the user or client behind the token.
func RequireFHIRScopes(opts ...FHIRScopeOption) func(http.Handler) http.Handler {
	o := newFHIRScopeOptions(opts)
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("smartauth: RequireFHIRScopes middleware applied to a nil http.Handler")
		}
		return &fhirScopeHandler{opts: o, next: next, unrestricted: newUnrestrictedDecisions(o.baseURL)}
	}
}

type fhirScopeHandler struct {
	opts fhirScopeOptions
	next http.Handler
	// buffers holds *bytes.Buffer for the responses being verified.
	buffers sync.Pool
	// unrestricted are the decisions of unrestricted requests.
	unrestricted *unrestrictedDecisions
}

func (h *fhirScopeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fr, err := ParseFHIRRequest(r, h.opts.basePath)
	if err == nil && fr.Interaction == scope.InteractionCapabilities {
		h.next.ServeHTTP(w, r)
		return
	}
	lc, ok := LaunchContextFrom(r.Context())
	if !ok {
		h.refuse(w, r, nil, &AuthError{Status: http.StatusUnauthorized, Reason: "missing_token", Err: ErrMissingToken})
		return
	}
	if err != nil {
		h.refuse(w, r, lc, insufficientScope("", fmt.Errorf("%w: %w", ErrInsufficientScope, err)))
		return
	}
	if fr.Interaction == scope.InteractionBatch {
		h.serveBatch(w, r, lc)
		return
	}
	if fr.BulkExport() != NotBulkExport {
		r, d, ae := h.decideBulkExport(r, lc, fr)
		if ae != nil {
			h.refuse(w, r, lc, ae)
			return
		}
		h.serve(w, r, d)
		return
	}
	d, ae := h.decide(lc, fr)
	if ae != nil {
		h.refuse(w, r, lc, ae)
		return
	}
	if d.unrestricted {
		h.serve(w, r, d)
		return
	}
	r, ae = h.checkRequest(r, lc, fr, d)
	if ae != nil {
		h.refuse(w, r, lc, ae)
		return
	}
	h.serve(w, r, d)
}

// serve calls the next handler with the decision in the request context,
// verifying its response if the decision says so.
func (h *fhirScopeHandler) serve(w http.ResponseWriter, r *http.Request, d *accessDecision) {
	r = r.WithContext(context.WithValue(r.Context(), accessKey{}, d))
	if !d.enforced {
		h.next.ServeHTTP(w, r)
		return
	}
	vw := h.newVerifyingWriter()
	defer h.release(vw)
	h.next.ServeHTTP(vw, r)
	h.finish(w, vw, r, d)
}

// decide makes the request-level decision for fr. A restricted decision
// is enforced by the middleware unless WithEnforcementByHandler.
func (h *fhirScopeHandler) decide(lc *LaunchContext, fr FHIRRequest) (*accessDecision, *AuthError) {
	i, typ := fr.Interaction, fr.ResourceType
	switch i {
	case scope.InteractionOperation:
		var ok bool
		if i, typ, ok = h.opts.operationRule(fr); !ok {
			return nil, insufficientScope("", ErrInsufficientScope)
		}
	case scope.InteractionSearch, scope.InteractionHistorySystem:
		if typ == "" {
			typ = "*" // every type
		}
	}

	patientOK := lc.Patient != ""
	if id := fr.PatientID(); id != "" && patientOK {
		patientOK = lc.IsPatientInContext(id)
	}
	dUser := lc.Scopes.Check(scope.User, typ, i)
	dSystem := lc.Scopes.Check(scope.System, typ, i)
	perm := scope.PermissionFor(i)
	if dUser == scope.Allow || dSystem == scope.Allow {
		return h.unrestricted[perm], nil
	}
	if typ != "*" && !fhirspec.IsResourceType(typ) || fr.CompartmentType != "" && !fhirspec.IsResourceType(fr.CompartmentType) {
		// A type that is not an R4 resource type (e.g. "PATIENT", which a
		// server may take for Patient) can be neither proved by the
		// ResourceLoader nor verified: no restricted scope allows it.
		return nil, refusal("unverifiable_request")
	}
	dPatient := scope.Deny
	if patientOK {
		dPatient = lc.Scopes.Check(scope.Patient, typ, i)
	}
	if dUser == scope.Deny && dSystem == scope.Deny && dPatient == scope.Deny {
		return nil, insufficientScope(scopeHint(lc, patientOK, typ, i), ErrInsufficientScope)
	}

	d := &accessDecision{
		enforced:     !h.opts.byHandler,
		perm:         perm,
		interaction:  i,
		resourceType: typ,
		baseURL:      h.opts.baseURL,
		patientOnly:  true,
	}
	if patientOK {
		d.patient = lc.Patient
	}
	for _, sc := range lc.Scopes.Scopes() {
		if sc.Kind != scope.KindClinical || sc.Permissions&perm == 0 || (sc.Context == scope.Patient && !patientOK) {
			continue
		}
		d.scopes = append(d.scopes, sc)
		if sc.ResourceType != "*" && sc.ResourceType != typ {
			continue
		}
		if !constraintsCheckable(typ, sc.Constraints) {
			continue // permits nothing: it cannot be verified
		}
		alt := Alternative{Scope: sc.Raw, Context: sc.Context, Params: sc.Constraints}
		if sc.Context == scope.Patient {
			alt.Patient = lc.Patient
		} else {
			d.patientOnly = false
		}
		d.alts = append(d.alts, alt)
	}
	d.alts = withoutSubsumed(d.alts)
	if len(d.alts) == 0 {
		// Only constraints that cannot be verified allow the request.
		return nil, &AuthError{Status: http.StatusForbidden, Code: CodeInsufficientScope,
			Reason: "unverifiable_constraint", Err: ErrInsufficientScope}
	}
	return d, nil
}

// withoutSubsumed drops the constrained patient/ alternatives when an
// unconstrained patient/ one allows the same data and more.
func withoutSubsumed(alts []Alternative) []Alternative {
	unconstrained := false
	for _, a := range alts {
		unconstrained = unconstrained || (a.Context == scope.Patient && a.Params == nil)
	}
	if !unconstrained {
		return alts
	}
	out := alts[:0]
	for _, a := range alts {
		if a.Context != scope.Patient || a.Params == nil {
			out = append(out, a)
		}
	}
	return out
}

// constraintsCheckable reports whether every constraint can be checked on
// resources of type typ ("*": decided per resource when verifying).
func constraintsCheckable(typ string, cs []scope.Param) bool {
	if typ == "*" {
		return true
	}
	for _, c := range cs {
		if !fhirspec.Checkable(typ, c.Name) {
			return false
		}
	}
	return true
}

// refuse writes a refusal and logs it at Debug.
func (h *fhirScopeHandler) refuse(w http.ResponseWriter, r *http.Request, lc *LaunchContext, ae *AuthError) {
	h.audit(r, lc, slog.LevelDebug, "smartauth: request refused", ae.Reason)
	h.opts.errorHandler(w, r, ae)
}

// audit logs one event of RequireFHIRScopes: no resource, id or token.
func (h *fhirScopeHandler) audit(r *http.Request, lc *LaunchContext, level slog.Level, msg, reason string) {
	ctx := r.Context()
	if !h.opts.logger.Enabled(ctx, level) {
		return
	}
	clientID := ""
	if lc != nil {
		clientID = lc.ClientID
	}
	fr, _ := ParseFHIRRequest(r, h.opts.basePath)
	h.opts.logger.LogAttrs(ctx, level, msg,
		slog.String("reason", reason),
		slog.String("interaction", fr.Interaction.String()),
		slog.String("resource_type", fr.ResourceType),
		slog.String("client_id", clientID))
}

func insufficientScope(hint string, err error) *AuthError {
	return &AuthError{
		Status: http.StatusForbidden,
		Code:   CodeInsufficientScope,
		Reason: "insufficient_scope",
		Scope:  hint,
		Err:    err,
	}
}

// refusal returns a 403 insufficient_scope AuthError with reason.
func refusal(reason string) *AuthError {
	return &AuthError{Status: http.StatusForbidden, Code: CodeInsufficientScope, Reason: reason, Err: ErrInsufficientScope}
}

// RequireScopesOption configures RequireScopes: an ErrorOption
// (WithRealm, WithErrorHandler).
type RequireScopesOption interface {
	applyRequireScopes(*requireScopesOptions)
}

type requireScopesOptions struct {
	errorHandler ErrorHandler
}

// RequireScopes returns a middleware for non-FHIR routes (a user info
// endpoint, a custom API) that requires every scope of scopes — a
// space-separated scope string, as OAuth writes them (RFC 6749 §3.3) — to
// be granted, each matched exactly (scope.Set.Has: case-sensitive, no
// prefix or wildcard matching). It runs after Authenticate. A request
// without LaunchContext is refused with 401 (Reason "missing_token",
// ErrMissingToken); one whose token lacks a scope with 403
// insufficient_scope, the scope hint listing the missing scopes. Refusals
// are written by DefaultErrorHandler unless an ErrorOption says otherwise.
//
// It panics if scopes holds no scope or a character RFC 6749 does not
// allow in a scope token.
func RequireScopes(scopes string, opts ...RequireScopesOption) func(http.Handler) http.Handler {
	want := strings.Split(strings.TrimSpace(scopes), " ")
	for _, s := range want {
		if !isScopeToken(s) {
			panic(fmt.Sprintf("smartauth: RequireScopes: invalid scope string %q", scopes))
		}
	}
	o := requireScopesOptions{errorHandler: DefaultErrorHandler}
	for _, opt := range opts {
		if opt != nil {
			opt.applyRequireScopes(&o)
		}
	}
	h := o.errorHandler
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("smartauth: RequireScopes middleware applied to a nil http.Handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			lc, ok := LaunchContextFrom(r.Context())
			if !ok {
				h(w, r, &AuthError{Status: http.StatusUnauthorized, Reason: "missing_token", Err: ErrMissingToken})
				return
			}
			for k, s := range want {
				if !lc.Scopes.Has(s) {
					h(w, r, insufficientScope(missingScopes(lc.Scopes, want[k:]), ErrInsufficientScope))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// isScopeToken reports whether s is an RFC 6749 scope-token.
func isScopeToken(s string) bool {
	for i := range len(s) {
		if !isScopeTokenChar(s[i]) {
			return false
		}
	}
	return s != ""
}

// missingScopes lists the scopes of want that set lacks.
func missingScopes(set scope.Set, want []string) string {
	var missing []string
	for _, s := range want {
		if !set.Has(s) {
			missing = append(missing, s)
		}
	}
	return strings.Join(missing, " ")
}
