package fhirspec

// IsResourceType reports whether name is an R4 resource type, e.g.
// "Observation" (case-sensitive: "observation" is not).
func IsResourceType(name string) bool { return lookupType(name) != nil }

// PatientCompartmentTypes returns the resource types in the Patient
// compartment (those with compartment parameters), sorted; a new slice on
// every call.
func PatientCompartmentTypes() []string {
	var out []string
	for i := range typeTable {
		if typeTable[i].compartment != nil {
			out = append(out, typeTable[i].name)
		}
	}
	return out
}
