package middleware

import (
	"strings"

	"github.com/smartauth/smartauth/middleware/internal/fhirspec"
	"github.com/smartauth/smartauth/middleware/scope"
)

// accessDecision is what RequireFHIRScopes decided for one request (or one
// entry of a batch). It is immutable once made.
type accessDecision struct {
	// unrestricted: an unconstrained user/ or system/ scope allows the
	// request; nothing else below is used except perm.
	unrestricted bool
	// enforced: the middleware checks bodies and verifies the response.
	enforced bool
	// perm is the permission the interaction needs.
	perm scope.Permission
	// interaction and resourceType are the request's ("*" for a
	// system-level search or history).
	interaction  scope.Interaction
	resourceType string
	// patient is the patient in context if patient/ scopes count for the
	// request, else "".
	patient string
	// baseURL is the public FHIR base URL absolute references must use
	// (WithBaseURL), without trailing slash; "" accepts none.
	baseURL string
	// scopes are the granted clinical scopes with perm, on any type
	// (patient/ ones only if patient != "").
	scopes []scope.Scope
	// alts are the Alternatives for resourceType.
	alts []Alternative
	// patientOnly: every alternative is a patient/ one.
	patientOnly bool
	// batch holds the entries' decisions of a batch or transaction.
	batch []*accessDecision
}

// unrestrictedDecisions are the decisions of unrestricted requests, by
// permission, made once per middleware so that the unrestricted path
// allocates nothing.
type unrestrictedDecisions [scope.Search << 1]*accessDecision

func newUnrestrictedDecisions(baseURL string) *unrestrictedDecisions {
	var ds unrestrictedDecisions
	for i := range ds {
		ds[i] = &accessDecision{unrestricted: true, perm: scope.Permission(i), baseURL: baseURL}
	}
	return &ds
}

// forScopes returns the restricted form of an unrestricted decision for a
// token, so that Access.Permits can tell which types its scopes cover.
func (d *accessDecision) forScopes(lc *LaunchContext) *accessDecision {
	r := &accessDecision{perm: d.perm, baseURL: d.baseURL}
	if lc == nil {
		return r
	}
	r.patient = lc.Patient
	for _, sc := range lc.Scopes.Scopes() {
		if sc.Kind == scope.KindClinical && sc.Permissions&d.perm != 0 && (sc.Context != scope.Patient || r.patient != "") {
			r.scopes = append(r.scopes, sc)
		}
	}
	return r
}

// permitsDocument reports whether every resource doc holds is permitted.
// An unrestricted decision permits everything: it is only used to verify
// requests whose scopes allow any resource of their type.
func (d *accessDecision) permitsDocument(doc map[string]any) bool {
	if d.unrestricted {
		return true
	}
	return walkResources(doc, d.permitsResource)
}

// permitsResource reports whether one resource (not a container) of type
// typ is permitted by some granted scope.
func (d *accessDecision) permitsResource(res map[string]any, typ string, contained bool) bool {
	for i := range d.scopes {
		sc := &d.scopes[i]
		if sc.ResourceType != "*" && sc.ResourceType != typ {
			continue
		}
		if sc.Context == scope.Patient && (!d.inCompartment(res, typ, contained) || d.writes() && d.namesOtherPatient(res, typ)) {
			continue
		}
		if sc.Constraints != nil && !d.matches(res, typ, sc.Constraints) {
			continue
		}
		return true
	}
	return false
}

// inCompartment reports whether res, of type typ, is data a patient/
// scope permits: the patient in context, a resource in that patient's
// compartment, or a resource of a type outside the compartment. A
// contained resource that references no patient at all belongs with its
// container (which is checked itself); a contained Patient never does.
func (d *accessDecision) inCompartment(res map[string]any, typ string, contained bool) bool {
	if d.patient == "" {
		return false
	}
	if typ != "Patient" && !fhirspec.IsPatientCompartmentType(typ) {
		return true
	}
	if fhirspec.InPatientCompartment(res, d.patient, d.baseOK) {
		return true
	}
	return contained && typ != "Patient" && !referencesAnyPatient(res, typ)
}

// writes reports whether the decision is for a create, update, patch or
// delete.
func (d *accessDecision) writes() bool {
	return d.perm&(scope.Create|scope.Update|scope.Delete) != 0
}

// namesOtherPatient reports whether a compartment parameter of res, of
// type typ, references a Patient other than the patient in context (or
// under a base other than the configured one). Such a resource lies in
// that patient's compartment too: a patient/ scope may read it, but not
// write it, which would change another patient's data.
func (d *accessDecision) namesOtherPatient(res map[string]any, typ string) bool {
	return anyCompartmentReference(res, typ, func(ref fhirspec.Reference, ok bool) bool {
		return ok && ref.Type == "Patient" && (ref.ID != d.patient || ref.Base != "" && !d.baseOK(ref.Base))
	})
}

// anyCompartmentReference reports whether f holds for a reference in one
// of the Patient compartment parameters of res (of type typ): f gets the
// parsed reference and whether it could be parsed. A compartment
// parameter missing from the tables counts as true (fail closed).
func anyCompartmentReference(res map[string]any, typ string, f func(ref fhirspec.Reference, ok bool) bool) bool {
	for _, code := range fhirspec.PatientCompartmentParams(typ) {
		p, ok := fhirspec.Param(typ, code)
		if !ok {
			return true
		}
		for _, path := range p.Paths {
			for _, v := range fhirspec.Values(res, path) {
				obj, ok := v.(map[string]any)
				if !ok {
					continue
				}
				ref, ok := obj["reference"].(string)
				if !ok {
					continue
				}
				if f(fhirspec.ParseReference(ref)) {
					return true
				}
			}
		}
	}
	return false
}

// matches reports whether res matches every constraint.
func (d *accessDecision) matches(res map[string]any, typ string, cs []scope.Param) bool {
	for _, c := range cs {
		ok, err := fhirspec.Match(res, typ, c.Name, c.Value, d.baseOK)
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// baseOK accepts the base of an absolute reference if it is the configured
// public base URL.
func (d *accessDecision) baseOK(base string) bool {
	return d.baseURL != "" && strings.TrimRight(base, "/") == d.baseURL
}

// referencesAnyPatient reports whether any compartment parameter of res
// holds a reference to a Patient (or one that cannot be parsed, which
// counts as one: fail closed).
func referencesAnyPatient(res map[string]any, typ string) bool {
	return anyCompartmentReference(res, typ, func(ref fhirspec.Reference, ok bool) bool {
		return !ok || ref.Type == "Patient"
	})
}

// maxResourceDepth bounds the nesting of resources walkResources follows
// (Bundles in Bundles, Parameters, contained).
const maxResourceDepth = 32

// walkResources calls permit for every resource doc holds that is not a
// container — doc itself, Bundle entries (and their response outcomes),
// resources of Parameters, nested to any depth up to maxResourceDepth, and
// contained resources — and reports whether every call returned true and
// the document had the shape of a FHIR resource throughout.
// OperationOutcome resources are always permitted.
func walkResources(doc map[string]any, permit func(res map[string]any, typ string, contained bool) bool) bool {
	return walk(doc, permit, 0, false)
}

func walk(res map[string]any, permit func(map[string]any, string, bool) bool, depth int, contained bool) bool {
	if depth > maxResourceDepth {
		return false
	}
	typ, _ := res["resourceType"].(string)
	switch {
	case !fhirspec.IsResourceType(typ):
		return false
	case typ == "OperationOutcome":
		return true
	case typ == "Bundle" && !contained:
		return walkBundle(res, permit, depth)
	case typ == "Parameters" && !contained:
		return walkParameters(res["parameter"], permit, depth)
	}
	if !permit(res, typ, contained) {
		return false
	}
	cs, ok := res["contained"]
	if !ok {
		return true
	}
	list, ok := cs.([]any)
	if !ok || contained {
		return false // malformed, or containment nested (not allowed in FHIR)
	}
	for _, c := range list {
		obj, ok := c.(map[string]any)
		if !ok || !walk(obj, permit, depth+1, true) {
			return false
		}
	}
	return true
}

func walkBundle(b map[string]any, permit func(map[string]any, string, bool) bool, depth int) bool {
	es, ok := b["entry"]
	if !ok {
		return true
	}
	entries, ok := es.([]any)
	if !ok {
		return false
	}
	for _, e := range entries {
		entry, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if r, ok := entry["resource"]; ok {
			obj, ok := r.(map[string]any)
			if !ok || !walk(obj, permit, depth+1, false) {
				return false
			}
		}
		if r, ok := entry["response"]; ok {
			resp, ok := r.(map[string]any)
			if !ok {
				return false
			}
			if o, ok := resp["outcome"]; ok {
				obj, ok := o.(map[string]any)
				if !ok || !walk(obj, permit, depth+1, false) {
					return false
				}
			}
		}
	}
	return true
}

func walkParameters(ps any, permit func(map[string]any, string, bool) bool, depth int) bool {
	if ps == nil {
		return true
	}
	list, ok := ps.([]any)
	if !ok {
		return false
	}
	if depth > maxResourceDepth {
		return false
	}
	for _, p := range list {
		param, ok := p.(map[string]any)
		if !ok {
			return false
		}
		if r, ok := param["resource"]; ok {
			obj, ok := r.(map[string]any)
			if !ok || !walk(obj, permit, depth+1, false) {
				return false
			}
		}
		if part, ok := param["part"]; ok && !walkParameters(part, permit, depth+1) {
			return false
		}
	}
	return true
}
