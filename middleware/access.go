package middleware

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/smartauth/smartauth/middleware/scope"
)

// Access is the decision RequireFHIRScopes made for a request, as the next
// handler sees it (AccessFrom). It answers the two questions a handler
// asks: may this resource be served (Permits), and what must a search be
// restricted to (Alternatives).
//
// By default RequireFHIRScopes enforces the decision itself — it checks the
// request's search parameters and bodies and verifies every resource of
// the response before a byte reaches the client — so a handler needs
// Access only to search efficiently (restricting a search to what the
// response may hold, instead of having it refused). A handler behind
// WithEnforcementByHandler must apply it to everything it serves.
//
// The zero Access (no decision in the context) permits nothing and is not
// Unrestricted: it fails closed.
type Access struct {
	d  *accessDecision
	lc *LaunchContext
	// entries are the decisions of the entries of a batch or transaction.
	entries []*accessDecision
}

// Alternative is one way a restricted request may be served: every
// resource the handler serves or writes must satisfy at least one of the
// request's Alternatives. An Alternative is never empty: it restricts the
// data to a patient's compartment, or by search parameters, or both.
type Alternative struct {
	// Scope is the granted scope this alternative comes from, e.g.
	// "patient/Observation.rs?category=laboratory".
	Scope string
	// Context is the scope's context: patient, user or system.
	Context scope.Context
	// Patient is, for a patient/ scope, the patient in context: the data
	// must lie in that patient's compartment (the Patient resource itself,
	// or resources that reference it by the FHIR R4 Patient
	// CompartmentDefinition; types outside the compartment, such as
	// Medication, are not restricted by it). "" for user/ and system/
	// scopes.
	Patient string
	// Params are the scope's search parameter constraints (names with any
	// modifier, percent-decoded values): the data must match all of them.
	// nil for an unconstrained scope.
	Params []scope.Param
}

// AccessFrom returns the decision RequireFHIRScopes stored in ctx. Without
// one, the zero Access: it permits nothing.
func AccessFrom(ctx context.Context) Access {
	d, _ := ctx.Value(accessKey{}).(*accessDecision)
	if d == nil {
		return Access{}
	}
	lc, _ := LaunchContextFrom(ctx)
	a := Access{d: d, lc: lc}
	if d.batch != nil {
		a.entries = d.batch
	}
	return a
}

type accessKey struct{}

// Unrestricted reports whether an unconstrained user/ or system/ scope
// allows the request's interaction on its resource type: the handler may
// then serve any resource of that type (RequireFHIRScopes neither buffers
// nor verifies the response). It is false for the zero Access, for
// requests that only patient/ or constrained scopes allow, and for batches
// with any restricted entry.
func (a Access) Unrestricted() bool {
	if a.d == nil {
		return false
	}
	if a.d.batch != nil {
		for _, e := range a.d.batch {
			if !e.unrestricted {
				return false
			}
		}
		return true
	}
	return a.d.unrestricted
}

// Enforced reports whether RequireFHIRScopes itself verifies the request's
// response (and checked its body): true for a restricted request unless
// WithEnforcementByHandler was given. When it is false and Unrestricted is
// false too, the handler must apply Permits or Alternatives to every
// resource it serves or writes.
func (a Access) Enforced() bool { return a.d != nil && a.d.enforced }

// Alternatives returns the restrictions of a restricted request, for its
// resource type: each resource served must satisfy at least one of them
// (for a search: restrict the search to their union). It returns nil for
// an Unrestricted request and for the zero Access — tell the two apart
// with Unrestricted. Resources of other types in the response (included,
// contained, or returned by an operation) are governed by Permits.
func (a Access) Alternatives() []Alternative {
	if a.d == nil || a.d.unrestricted || len(a.d.alts) == 0 {
		return nil
	}
	out := make([]Alternative, len(a.d.alts))
	for i, alt := range a.d.alts {
		out[i] = alt
		if alt.Params != nil {
			out[i].Params = append([]scope.Param(nil), alt.Params...)
		}
	}
	return out
}

// Entries returns the decisions of the entries of a batch or transaction
// request, in entry order; nil for any other request.
func (a Access) Entries() []Access {
	if a.d == nil || a.d.batch == nil {
		return nil
	}
	out := make([]Access, len(a.d.batch))
	for i, e := range a.d.batch {
		out[i] = Access{d: e, lc: a.lc}
	}
	return out
}

// Permits reports whether resource — a decoded FHIR JSON resource — may be
// served (or written) under the request's granted scopes: it and every
// resource it holds (Bundle entries, nested Bundles, Parameters resources,
// contained resources) must each be permitted by at least one granted
// scope that allows the request's interaction on its type: an
// unconstrained user/ or system/ scope; a patient/ scope if the resource
// is the patient in context, lies in that patient's compartment, or is of
// a type outside the Patient compartment (for a create, update, patch or
// delete, only if none of its compartment references names another
// patient: that would change their data too); a constrained scope only if the
// resource also matches all its parameters (token, reference, string and
// uri parameters with simple element paths; any other constraint permits
// nothing). OperationOutcome resources (errors, search outcomes) are
// always permitted. The zero Access permits nothing; a batch's Access
// permits only what every entry permits (use Entries).
func (a Access) Permits(resource map[string]any) bool {
	if a.d == nil {
		return false
	}
	if a.d.batch != nil {
		for _, e := range a.d.batch {
			if !a.restricted(e).permitsDocument(resource) {
				return false
			}
		}
		return len(a.d.batch) > 0
	}
	return a.restricted(a.d).permitsDocument(resource)
}

// restricted returns d, or for an unrestricted d its restricted form for
// the request's token: an unrestricted request's resource type may be
// served whatever it holds, but a handler asking about another type gets
// the answer the token's scopes give.
func (a Access) restricted(d *accessDecision) *accessDecision {
	if !d.unrestricted {
		return d
	}
	return d.forScopes(a.lc)
}

// ErrNotJSON is returned by PermitsJSON for a body that is not a JSON
// object.
var ErrNotJSON = errors.New("smartauth: not a JSON FHIR resource")

// PermitsJSON is Permits for an encoded resource. It returns ErrNotJSON
// (wrapped) if body is not a JSON object.
func (a Access) PermitsJSON(body []byte) (bool, error) {
	var res map[string]any
	if err := json.Unmarshal(body, &res); err != nil || res == nil {
		if err == nil {
			err = errors.New("null")
		}
		return false, errors.Join(ErrNotJSON, err)
	}
	return a.Permits(res), nil
}
