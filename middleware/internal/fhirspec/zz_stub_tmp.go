package fhirspec

import "errors"

type ParamType uint8

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

type Path struct {
	Elements  []string
	ResolveIs string
}
type SearchParam struct {
	Code      string
	Type      ParamType
	Targets   []string
	Paths     []Path
	Checkable bool
}

func Param(resourceType, code string) (SearchParam, bool)    { return SearchParam{}, false }
func PatientCompartmentParams(resourceType string) []string { return nil }
func IsPatientCompartmentType(resourceType string) bool     { return false }
func PatientReferenceParams(resourceType string) []string   { return nil }
func PatientCompartmentTypes() []string                     { return nil }
func Values(res map[string]any, p Path) []any               { return nil }

type Reference struct{ Base, Type, ID string }

func ParseReference(s string) (Reference, bool) { return Reference{}, false }
func InPatientCompartment(res map[string]any, patientID string, baseOK func(base string) bool) bool {
	return false
}
func Match(res map[string]any, resourceType, name, value string, baseOK func(string) bool) (bool, error) {
	return false, nil
}

var ErrUncheckable = errors.New("x")

func Checkable(resourceType, name string) bool { return false }
