package fhirspec

// ParamType is a FHIR search parameter type.
type ParamType uint8

// The FHIR R4 search parameter types. TypeUnknown is the zero value and
// never appears in the tables.
const (
	TypeUnknown ParamType = iota
	TypeNumber
	TypeDate
	TypeString
	TypeToken
	TypeReference
	TypeComposite
	TypeQuantity
	TypeURI
	TypeSpecial
)

// String returns the FHIR name of t ("token", "reference", ...), or
// "unknown".
func (t ParamType) String() string {
	switch t {
	case TypeNumber:
		return "number"
	case TypeDate:
		return "date"
	case TypeString:
		return "string"
	case TypeToken:
		return "token"
	case TypeReference:
		return "reference"
	case TypeComposite:
		return "composite"
	case TypeQuantity:
		return "quantity"
	case TypeURI:
		return "uri"
	case TypeSpecial:
		return "special"
	}
	return "unknown"
}

// Path is one simple element path of a search parameter for one resource
// type.
type Path struct {
	// Elements are the JSON property names from the resource root, e.g.
	// {"subject"}, {"valueCodeableConcept"}, {"participant", "individual"}.
	// A FHIR choice element cast to a type is the JSON property name
	// element+Type (value.ofType(Quantity) → "valueQuantity").
	Elements []string
	// ResolveIs is the resource type the expression keeps references to,
	// "Patient" for ...where(resolve() is Patient), else "".
	ResolveIs string
}

// SearchParam is a search parameter as it applies to one resource type.
// The slices are shared with the package tables and must not be modified.
type SearchParam struct {
	// Code is the parameter's name in a search, e.g. "subject".
	Code string
	// Type is the parameter's type.
	Type ParamType
	// Targets are the resource types a reference parameter may point to,
	// nil for other types.
	Targets []string
	// Paths are the simple element paths of the parts of the parameter's
	// expression that apply to this resource type, in expression order.
	Paths []Path
	// Checkable reports that every part of the expression for this type is
	// a simple Path (and there is at least one), so that the Paths are the
	// whole of the parameter.
	Checkable bool
}

// Param returns the search parameter code (without modifier) as it applies
// to resourceType, including the parameters common to every resource
// (_id, _lastUpdated, _profile, _tag, _security, _source, ...), and false
// if resourceType is not an R4 resource type or has no such parameter.
func Param(resourceType, code string) (SearchParam, bool) {
	ti := lookupType(resourceType)
	if ti == nil {
		return SearchParam{}, false
	}
	if p := ti.param(code); p != nil {
		return *p, true
	}
	if c := lookupCommonParam(code); c != nil && (ti.domainResource || !c.domainOnly) {
		return c.param, true
	}
	return SearchParam{}, false
}
