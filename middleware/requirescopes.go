package middleware

import (
	"context"
	"fmt"
	"net/http"
	"strings"

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
// system-level one ($op, e.g. $export) is refused. This is coarse: an
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

// FHIRScopeOption configures RequireFHIRScopes.
type FHIRScopeOption func(*fhirScopeOptions)

type fhirScopeOptions struct {
	basePath      string
	operationRule OperationRule
	batch         bool
	errorHandler  ErrorHandler
}

// WithBasePath sets the path of the FHIR base URL on this server, e.g.
// "/fhir" for https://ehr.example.org/fhir; requests outside it are refused.
// Zero value: "", the FHIR base is the root of the paths the middleware
// sees (use that when the mux strips the prefix, e.g. with
// http.StripPrefix).
func WithBasePath(p string) FHIRScopeOption {
	return func(o *fhirScopeOptions) { o.basePath = p }
}

// WithOperationRule replaces DefaultOperationRule. A nil rule restores the
// default.
func WithOperationRule(rule OperationRule) FHIRScopeOption {
	return func(o *fhirScopeOptions) {
		if rule == nil {
			rule = DefaultOperationRule
		}
		o.operationRule = rule
	}
}

// WithBatch(true) lets batch and transaction requests (POST to the FHIR
// base) through to the next handler, which must then check every entry
// itself (SMART defines no scope for them: each entry needs the scope of
// its own interaction); the request context then holds no FHIRAccess.
// Zero value: false, such requests are refused with 403, since the
// middleware cannot check the entries without reading the body.
func WithBatch(allow bool) FHIRScopeOption {
	return func(o *fhirScopeOptions) { o.batch = allow }
}

// WithFHIRErrorHandler sets the function that writes the response for a
// refused request. Zero value (or nil): DefaultErrorHandler. Use the same
// handler as Authenticate's so that both answer with one realm.
func WithFHIRErrorHandler(h ErrorHandler) FHIRScopeOption {
	return func(o *fhirScopeOptions) {
		if h == nil {
			h = DefaultErrorHandler
		}
		o.errorHandler = h
	}
}

// RequireFHIRScopes returns a middleware that enforces SMART scopes on FHIR
// REST requests. It runs after Authenticate and reads the request's
// LaunchContext.
//
// It derives the interaction and resource type of the request with
// ParseFHIRRequest, and lets it through if a granted clinical scope allows
// that interaction (c, r, u, d or s; v1 scopes count as their v2
// equivalents) on that type in the patient/, user/ or system/ context:
//
//   - GET [base]/metadata needs no scope, nor even a LaunchContext (so that
//     it can be served with Authenticate's WithOptionalCredentials);
//   - patient/ scopes count only if the LaunchContext has a patient in
//     context and the request does not name another patient
//     (Patient/[id]..., or a Patient/[id]/... compartment): when only they
//     allow the request, FHIRAccess.PatientCompartment is set and the
//     handler must restrict the data to that patient (see
//     RequiresPatientCompartment);
//   - system-wide searches and histories (GET [base], [base]/_search,
//     [base]/_history) need a "*" scope (e.g. user/*.s);
//   - operations need what the OperationRule says (DefaultOperationRule:
//     instance-level r, type-level s, system-level refused);
//   - batch and transaction (POST [base]) are refused unless WithBatch;
//   - when only scopes with search parameter constraints (e.g.
//     patient/Observation.rs?category=laboratory) allow the request, the
//     constraints are stored in the request context (ScopeConstraintsFrom)
//     and the handler must restrict the data to them; a search whose URL
//     query gives a constrained parameter only other values than every
//     such scope allows is refused. Parameters sent in a POST _search body
//     are not read here: the handler's filtering is what enforces
//     constraints.
//
// The next handler gets the decision with FHIRAccessFrom. A request without
// LaunchContext is refused with 401 (Reason "missing_token", ErrMissingToken);
// a request that is not a FHIR REST request ParseFHIRRequest knows, or that
// no scope allows, with 403 insufficient_scope (ErrInsufficientScope; for
// the former the error also wraps ErrNotFHIRRequest), whose scope hint
// names the scopes that would allow it, e.g.
//
//	WWW-Authenticate: Bearer realm="smartauth", error="insufficient_scope", error_description="…", scope="patient/Observation.s user/Observation.s"
//
// Refusals are written by DefaultErrorHandler unless WithFHIRErrorHandler
// is given. The middleware composes with http.ServeMux patterns:
//
//	fhir := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"))
//	mux.Handle("GET /fhir/Patient/{id}", authn(fhir(readPatient)))
//
// SMART scopes delegate access: the server must still apply the
// permissions of the user or client behind the token.
func RequireFHIRScopes(opts ...FHIRScopeOption) func(http.Handler) http.Handler {
	o := fhirScopeOptions{operationRule: DefaultOperationRule, errorHandler: DefaultErrorHandler}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("smartauth: RequireFHIRScopes middleware applied to a nil http.Handler")
		}
		return &fhirScopeHandler{opts: o, next: next}
	}
}

type fhirScopeHandler struct {
	opts fhirScopeOptions
	next http.Handler
}

func (h *fhirScopeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fr, err := ParseFHIRRequest(r, h.opts.basePath)
	if err == nil && fr.Interaction == scope.InteractionCapabilities {
		h.next.ServeHTTP(w, r)
		return
	}
	lc, ok := LaunchContextFrom(r.Context())
	if !ok {
		h.opts.errorHandler(w, r, &AuthError{Status: http.StatusUnauthorized, Reason: "missing_token", Err: ErrMissingToken})
		return
	}
	if err != nil {
		h.deny(w, r, "", fmt.Errorf("%w: %w", ErrInsufficientScope, err))
		return
	}

	i, typ := fr.Interaction, fr.ResourceType
	switch i {
	case scope.InteractionBatch:
		if !h.opts.batch {
			h.deny(w, r, "", ErrInsufficientScope)
			return
		}
		h.next.ServeHTTP(w, r)
		return
	case scope.InteractionOperation:
		if i, typ, ok = h.opts.operationRule(fr); !ok {
			h.deny(w, r, "", ErrInsufficientScope)
			return
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
	var dPatient scope.Decision
	dUser := lc.Scopes.Check(scope.User, typ, i)
	dSystem := lc.Scopes.Check(scope.System, typ, i)
	if dUser == scope.Allow || dSystem == scope.Allow {
		h.serve(w, r, accessUnrestricted)
		return
	}
	if patientOK {
		dPatient = lc.Scopes.Check(scope.Patient, typ, i)
	}
	if dUser == scope.Deny && dSystem == scope.Deny {
		switch dPatient {
		case scope.Allow:
			h.serve(w, r, accessPatient)
			return
		case scope.Deny:
			h.deny(w, r, scopeHint(lc, patientOK, typ, i), ErrInsufficientScope)
			return
		}
	}

	// Only constrained scopes allow the request, or an unconstrained
	// patient/ scope and constrained user/ or system/ ones.
	access := &FHIRAccess{}
	if dPatient == scope.Allow {
		// Dominates every constrained patient/ scope.
		for _, sc := range lc.Scopes.Matching(scope.Patient, typ, i) {
			if sc.Constraints == nil {
				access.Constraints = append(access.Constraints, Constraint{Scope: sc.Raw, Context: scope.Patient})
				break
			}
		}
	} else if dPatient == scope.AllowConstrained {
		access.Constraints = appendConstraints(access.Constraints, lc.Scopes.Matching(scope.Patient, typ, i))
	}
	access.Constraints = appendConstraints(access.Constraints, lc.Scopes.Matching(scope.User, typ, i))
	access.Constraints = appendConstraints(access.Constraints, lc.Scopes.Matching(scope.System, typ, i))
	access.PatientCompartment = true
	for _, c := range access.Constraints {
		if c.Context != scope.Patient {
			access.PatientCompartment = false
		}
	}
	if fr.Interaction == scope.InteractionSearch && contradictsAll(access.Constraints, r) {
		h.deny(w, r, "", ErrInsufficientScope)
		return
	}
	h.serve(w, r, access)
}

// serve calls the next handler with the decision in the request context.
// access is an accessMode or a *FHIRAccess.
func (h *fhirScopeHandler) serve(w http.ResponseWriter, r *http.Request, access any) {
	h.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), fhirAccessKey{}, access)))
}

func (h *fhirScopeHandler) deny(w http.ResponseWriter, r *http.Request, hint string, err error) {
	h.opts.errorHandler(w, r, insufficientScope(hint, err))
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

// appendConstraints appends the allowing scopes as Constraints.
func appendConstraints(cs []Constraint, scopes []scope.Scope) []Constraint {
	for _, sc := range scopes {
		cs = append(cs, Constraint{Scope: sc.Raw, Context: sc.Context, Params: sc.Constraints})
	}
	return cs
}

// contradictsAll reports whether the URL query of r contradicts every
// Constraint (an unconstrained patient/ alternative is never contradicted).
func contradictsAll(cs []Constraint, r *http.Request) bool {
	if r.URL.RawQuery == "" {
		return false
	}
	q := r.URL.Query()
	for _, c := range cs {
		if !c.contradicts(q) {
			return false
		}
	}
	return true
}

// scopeHint names the scopes that would allow interaction i on typ: one
// per context the token uses (patient/ only if a patient/ scope could
// count), or patient/ and user/ if it uses none.
func scopeHint(lc *LaunchContext, patientOK bool, typ string, i scope.Interaction) string {
	letter := scope.PermissionFor(i).String()
	if letter == "" {
		return ""
	}
	var used [scope.System + 1]bool
	found := false
	for _, sc := range lc.Scopes.Scopes() {
		if sc.Kind == scope.KindClinical && (sc.Context != scope.Patient || patientOK) {
			used[sc.Context], found = true, true
		}
	}
	if !found {
		used[scope.Patient], used[scope.User] = patientOK, true
	}
	var b strings.Builder
	for c := scope.Patient; c <= scope.System; c++ {
		if !used[c] {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.String())
		b.WriteByte('/')
		b.WriteString(typ)
		b.WriteByte('.')
		b.WriteString(letter)
	}
	return b.String()
}

// RequireScopes returns a middleware for non-FHIR routes (a user info
// endpoint, a custom API) that requires every one of scopes to be granted,
// each matched exactly (scope.Set.Has: case-sensitive, no prefix or
// wildcard matching). It runs after Authenticate. A request without
// LaunchContext is refused with 401 (Reason "missing_token",
// ErrMissingToken); one whose token lacks a scope with 403
// insufficient_scope, the scope hint listing the missing scopes. Refusals
// are written by DefaultErrorHandler; see RequireScopesWith to use another
// ErrorHandler.
//
// It panics if a scope is empty or contains a space.
func RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	return RequireScopesWith(DefaultErrorHandler, scopes...)
}

// RequireScopesWith is RequireScopes with refusals written by h (nil means
// DefaultErrorHandler).
func RequireScopesWith(h ErrorHandler, scopes ...string) func(http.Handler) http.Handler {
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			panic(fmt.Sprintf("smartauth: RequireScopes: invalid scope %q", s))
		}
	}
	if h == nil {
		h = DefaultErrorHandler
	}
	want := append([]string(nil), scopes...)
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
