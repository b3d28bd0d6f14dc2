// Package scope parses SMART App Launch scopes (v1 and v2) and decides which
// FHIR REST interactions they allow.
//
// It implements the grammar of SMART App Launch 2.2, "Scopes and Launch
// Context": clinical scopes
//
//	(patient|user|system) "/" (ResourceType|"*") "." permissions ["?" param=value *("&" param=value)]
//
// where permissions are a non-empty, in-order subset of the letters
// "cruds" (v2), or "read", "write" or "*" (v1, mapped to "rs", "cud" and
// "cruds"); plus launch, launch/patient, launch/encounter (and other
// launch/... context scopes), openid, fhirUser, profile, offline_access and
// online_access. Anything else is kept but grants nothing. Malformed
// clinical scopes (out of order or repeated letters, unknown suffixes,
// lower-case resource types, v1 scopes with constraints) never grant
// anything: they are never guessed at or widened.
//
// Usage:
//
//	set := scope.Parse("launch/patient patient/Observation.rs user/Patient.r")
//	set.Has("launch/patient")                                          // true
//	set.Allows(scope.Patient, "Observation", scope.InteractionSearch) // true
//	set.Allows(scope.User, "Observation", scope.InteractionRead)      // false
//
//	switch set.Check(scope.Patient, "Observation", scope.InteractionRead) {
//	case scope.Allow:
//		// unrestricted (within the patient compartment for patient/ scopes)
//	case scope.AllowConstrained:
//		for _, sc := range set.Matching(scope.Patient, "Observation", scope.InteractionRead) {
//			_ = sc.Constraints // each result must match all the constraints of one of them
//		}
//	case scope.Deny:
//		// 403 insufficient_scope
//	}
//
// Parse is meant to run once per token (verifiers cache the result); Allows
// and Check do not allocate.
package scope
