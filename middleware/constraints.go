package middleware

import (
	"context"
	"net/http"
	"net/url"

	"github.com/smartauth/smartauth/middleware/scope"
)

// Constraint is one of the ways a request allowed by RequireFHIRScopes may
// be served, when no granted scope allows it without restriction. The data
// the handler returns (or writes) must satisfy at least one Constraint: a
// resource satisfies a Constraint if it matches all its Params and, for a
// patient/ scope, belongs to the compartment of the patient in context
// (LaunchContext.Patient).
type Constraint struct {
	// Scope is the granted scope token this alternative comes from, e.g.
	// "patient/Observation.rs?category=laboratory".
	Scope string
	// Context is the scope's context (patient, user or system).
	Context scope.Context
	// Params are the scope's search parameter constraints, in order (names
	// with any modifier, percent-decoded values). Empty for an
	// unconstrained patient/ scope, whose only restriction is the patient
	// compartment.
	Params []scope.Param
}

// FHIRAccess is how RequireFHIRScopes allowed a request: it tells the
// handler which data-level restrictions it must apply, since the
// middleware only sees the interaction and resource type.
type FHIRAccess struct {
	// PatientCompartment reports that only patient/ scopes allow the
	// request: the handler must restrict the data (read, searched or
	// written) to the compartment of the patient in context,
	// LaunchContext.Patient.
	PatientCompartment bool
	// Constraints is non-nil when no granted scope allows the request
	// without restriction and at least one allowing scope has search
	// parameter constraints: the data must then satisfy at least one of
	// them (see Constraint). When PatientCompartment is true every
	// Constraint is a patient/ one.
	Constraints []Constraint
}

// fhirAccessKey is the context key of the decision of RequireFHIRScopes.
// The value is an accessMode (stored without allocating) or a
// *FHIRAccess.
type fhirAccessKey struct{}

// accessMode is the decision of the common cases, stored in the context
// as a one-byte value (which does not allocate when boxed).
type accessMode uint8

const (
	accessUnrestricted accessMode = iota + 1
	accessPatient
)

// FHIRAccessFrom returns the decision RequireFHIRScopes stored in ctx, and
// false if there is none (the request did not go through RequireFHIRScopes,
// was a capabilities request, or a batch let through by WithBatch). The
// returned Constraints slice belongs to the request; do not keep it beyond
// the request.
func FHIRAccessFrom(ctx context.Context) (FHIRAccess, bool) {
	switch v := ctx.Value(fhirAccessKey{}).(type) {
	case accessMode:
		return FHIRAccess{PatientCompartment: v == accessPatient}, true
	case *FHIRAccess:
		return *v, true
	}
	return FHIRAccess{}, false
}

// ScopeConstraintsFrom returns the Constraints RequireFHIRScopes stored in
// ctx for a request that only constrained scopes allow, and true; the
// handler must then return or write only data that satisfies at least one
// of them. It returns nil, false when some scope allows the request without
// search parameter constraints (or when ctx holds no decision of
// RequireFHIRScopes; see FHIRAccessFrom).
func ScopeConstraintsFrom(ctx context.Context) ([]Constraint, bool) {
	a, _ := FHIRAccessFrom(ctx)
	return a.Constraints, a.Constraints != nil
}

// RequiresPatientCompartment reports whether the handler must restrict the
// data of the request to the compartment of the patient in context
// (LaunchContext.Patient) because only patient/ scopes allow the request.
// It fails closed: it also reports true when ctx holds no decision of
// RequireFHIRScopes. A false result with ScopeConstraintsFrom reporting
// true means some Constraints are patient/ ones and others are not: check
// each Constraint's Context.
func RequiresPatientCompartment(ctx context.Context) bool {
	a, ok := FHIRAccessFrom(ctx)
	return !ok || a.PatientCompartment
}

// PatientInContext reports whether id (a Patient id, with or without a
// "Patient/" prefix) is the patient in context of the request's
// LaunchContext. It is false if the request carries no LaunchContext or no
// patient in context.
func PatientInContext(r *http.Request, id string) bool {
	lc, ok := LaunchContextFrom(r.Context())
	return ok && lc.IsPatientInContext(id)
}

// contradicts reports whether query asks for something constraint c can
// never satisfy: a parameter of c is given with a value list (comma
// separated, FHIR "OR") that does not contain c's value. Parameters are
// compared by exact name, so a modifier ("category:not") is a different
// parameter; values are compared literally.
func (c Constraint) contradicts(query url.Values) bool {
	for _, p := range c.Params {
		for _, v := range query[p.Name] {
			if !fhirValueListContains(v, p.Value) {
				return true
			}
		}
	}
	return false
}

// fhirValueListContains reports whether the FHIR search value list (values
// separated by commas that are not escaped with "\") contains want.
func fhirValueListContains(list, want string) bool {
	start, escaped := 0, false
	for i := 0; i < len(list); i++ {
		switch {
		case escaped:
			escaped = false
		case list[i] == '\\':
			escaped = true
		case list[i] == ',':
			if list[start:i] == want {
				return true
			}
			start = i + 1
		}
	}
	return list[start:] == want
}
