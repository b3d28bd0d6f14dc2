package scope

// Covers reports whether the set grants everything the scope token
// requested grants, by meaning rather than by spelling, so that a refresh
// may narrow a grant (RFC 6749 §6: the new scope "MUST NOT include any
// scope not originally granted"):
//
//   - a non-clinical scope (openid, fhirUser, launch/patient,
//     offline_access, ...) or a token this package does not recognise is
//     covered only by the same token;
//   - a clinical scope is covered if, for each of its permissions, some
//     clinical scope of the set in the same context (patient/, user/ or
//     system/) grants that permission on its resource type ("*" covers
//     every type, but a requested "*" needs a "*") with constraints that
//     the requested scope also has: an unconstrained grant covers a
//     constrained request (patient/Observation.rs covers
//     patient/Observation.rs?category=laboratory), never the reverse;
//   - v1 and v2 scopes compare by their permissions (patient/*.read covers
//     patient/Observation.rs and patient/Patient.r).
//
// Constraint parameters are compared by exact name and value.
func (s Set) Covers(requested string) bool {
	if s.Has(requested) {
		return true
	}
	want := parseScope(requested)
	if want.Kind != KindClinical || s.p == nil {
		return false
	}
	for p := Create; p <= Search; p <<= 1 {
		if want.Permissions&p == 0 {
			continue
		}
		covered := false
		for i := range s.p.scopes {
			if g := &s.p.scopes[i]; g.coversPermission(&want, p) {
				covered = true
				break
			}
		}
		if !covered {
			return false
		}
	}
	return true
}

// coversPermission reports whether the clinical scope g grants permission
// p on everything the clinical scope want names.
func (g *Scope) coversPermission(want *Scope, p Permission) bool {
	if g.Kind != KindClinical || g.Context != want.Context || g.Permissions&p == 0 {
		return false
	}
	if g.ResourceType != "*" && g.ResourceType != want.ResourceType {
		return false
	}
	// Every constraint of the grant must also restrict the request.
	for _, gc := range g.Constraints {
		found := false
		for _, wc := range want.Constraints {
			if wc == gc {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
