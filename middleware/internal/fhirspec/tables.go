package fhirspec

//go:generate go run ./internal/gen -defs ../../../../shared/fhir-r4 -out tables_gen.go

// typeInfo is what the generated tables know about one resource type.
type typeInfo struct {
	name string
	// domainResource is false for the resources that are not
	// DomainResources (Binary, Bundle, Parameters).
	domainResource bool
	// params are the type's own search parameters, sorted by Code; the
	// common ones are in commonParams.
	params []SearchParam
	// compartment are the Patient compartment parameter codes, nil if the
	// type is not in the Patient compartment.
	compartment []string
	// compartmentPaths is the union of the Paths of the compartment
	// parameters.
	compartmentPaths []Path
	// patientRefParams are the codes of the reference parameters that may
	// point to a Patient, and the compartment parameters; sorted, unique.
	patientRefParams []string
}

// commonParam is a search parameter of Resource or DomainResource, which
// applies to every resource type (every DomainResource if domainOnly).
type commonParam struct {
	param      SearchParam
	domainOnly bool
}

// lookupType returns the table entry of resourceType, nil if it is not an
// R4 resource type.
func lookupType(resourceType string) *typeInfo {
	lo, hi := 0, len(typeTable)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if typeTable[m].name < resourceType {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(typeTable) && typeTable[lo].name == resourceType {
		return &typeTable[lo]
	}
	return nil
}

// param returns the type's own search parameter code, nil if none.
func (t *typeInfo) param(code string) *SearchParam {
	return searchParam(t.params, code)
}

// searchParam returns the parameter named code in params (sorted by Code),
// nil if none.
func searchParam(params []SearchParam, code string) *SearchParam {
	lo, hi := 0, len(params)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if params[m].Code < code {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(params) && params[lo].Code == code {
		return &params[lo]
	}
	return nil
}

// lookupCommonParam returns the common search parameter code, nil if none.
func lookupCommonParam(code string) *commonParam {
	lo, hi := 0, len(commonParams)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if commonParams[m].param.Code < code {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(commonParams) && commonParams[lo].param.Code == code {
		return &commonParams[lo]
	}
	return nil
}

// isResourceType reports whether name is an R4 resource type.
func isResourceType(name string) bool {
	return lookupType(name) != nil
}
