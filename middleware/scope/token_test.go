package scope

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

const (
	all    = Create | Read | Update | Delete | Search
	v1Read = Read | Search
	v1Writ = Create | Update | Delete
	labCat = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
)

func TestParseScope(t *testing.T) {
	clinical := func(raw string, c Context, typ string, p Permission, v int, cs ...Param) Scope {
		return Scope{Raw: raw, Kind: KindClinical, Context: c, ResourceType: typ, Permissions: p, Constraints: cs, Version: v}
	}
	unknown := func(raw string) Scope { return Scope{Raw: raw} }
	tests := []struct {
		tok  string
		want Scope
	}{
		// Examples of the SMART App Launch 2.2 "Scopes and Launch Context" page.
		{"patient/*.rs", clinical("patient/*.rs", Patient, "*", Read|Search, 2)},
		{"user/*.cruds", clinical("user/*.cruds", User, "*", all, 2)},
		{"patient/Observation.cu", clinical("patient/Observation.cu", Patient, "Observation", Create|Update, 2)},
		{"patient/Observation.rs", clinical("patient/Observation.rs", Patient, "Observation", Read|Search, 2)},
		{"patient/Patient.r", clinical("patient/Patient.r", Patient, "Patient", Read, 2)},
		{"patient/Observation.c", clinical("patient/Observation.c", Patient, "Observation", Create, 2)},
		{"patient/*.cruds", clinical("patient/*.cruds", Patient, "*", all, 2)},
		{"user/Observation.rs", clinical("user/Observation.rs", User, "Observation", Read|Search, 2)},
		{"user/Appointment.cruds", clinical("user/Appointment.cruds", User, "Appointment", all, 2)},
		{"user/Patient.rs", clinical("user/Patient.rs", User, "Patient", Read|Search, 2)},
		{"system/Observation.rs", clinical("system/Observation.rs", System, "Observation", Read|Search, 2)},
		{"system/*.rs", clinical("system/*.rs", System, "*", Read|Search, 2)},
		{"system/Encounter.cud", clinical("system/Encounter.cud", System, "Encounter", Create|Update|Delete, 2)},
		{"patient/AllergyIntolerance.cruds", clinical("patient/AllergyIntolerance.cruds", Patient, "AllergyIntolerance", all, 2)},
		{"patient/AllergyIntolerance.cud", clinical("patient/AllergyIntolerance.cud", Patient, "AllergyIntolerance", Create|Update|Delete, 2)},
		{"patient/*.r", clinical("patient/*.r", Patient, "*", Read, 2)},
		{
			"patient/Observation.rs?category=" + labCat,
			clinical("patient/Observation.rs?category="+labCat, Patient, "Observation", Read|Search, 2,
				Param{"category", labCat}),
		},
		{
			"Observation.rs?code:in=http://valueset.example.org/ValueSet/diabetes-codes",
			unknown("Observation.rs?code:in=http://valueset.example.org/ValueSet/diabetes-codes"),
		},
		{
			"user/Observation.rs?code:in=http://valueset.example.org/ValueSet/diabetes-codes",
			clinical("user/Observation.rs?code:in=http://valueset.example.org/ValueSet/diabetes-codes", User, "Observation", Read|Search, 2,
				Param{"code:in", "http://valueset.example.org/ValueSet/diabetes-codes"}),
		},
		{
			"patient/Observation.rs?patient.birthdate=1990",
			clinical("patient/Observation.rs?patient.birthdate=1990", Patient, "Observation", Read|Search, 2,
				Param{"patient.birthdate", "1990"}),
		},
		{
			"user/Observation.rs?category=laboratory&status=final&",
			clinical("user/Observation.rs?category=laboratory&status=final&", User, "Observation", Read|Search, 2,
				Param{"category", "laboratory"}, Param{"status", "final"}),
		},
		{
			"user/Observation.s?code=http%3A%2F%2Floinc.org%7C1234-5",
			clinical("user/Observation.s?code=http%3A%2F%2Floinc.org%7C1234-5", User, "Observation", Search, 2,
				Param{"code", "http://loinc.org|1234-5"}),
		},
		{"launch", Scope{Raw: "launch", Kind: KindLaunch}},
		{"launch/patient", Scope{Raw: "launch/patient", Kind: KindLaunchContext}},
		{"launch/encounter", Scope{Raw: "launch/encounter", Kind: KindLaunchContext}},
		{"launch/imagingstudy", Scope{Raw: "launch/imagingstudy", Kind: KindLaunchContext}},
		{"launch/xyz", Scope{Raw: "launch/xyz", Kind: KindLaunchContext}},
		{"openid", Scope{Raw: "openid", Kind: KindOpenID}},
		{"fhirUser", Scope{Raw: "fhirUser", Kind: KindFHIRUser}},
		{"profile", Scope{Raw: "profile", Kind: KindProfile}},
		{"offline_access", Scope{Raw: "offline_access", Kind: KindOfflineAccess}},
		{"online_access", Scope{Raw: "online_access", Kind: KindOnlineAccess}},
		{"__profilePhoto.manage", unknown("__profilePhoto.manage")},
		{"https://ehr.example.org/scopes/profilePhoto.manage", unknown("https://ehr.example.org/scopes/profilePhoto.manage")},

		// SMART v1.
		{"patient/*.read", clinical("patient/*.read", Patient, "*", v1Read, 1)},
		{"user/Patient.write", clinical("user/Patient.write", User, "Patient", v1Writ, 1)},
		{"patient/Observation.read", clinical("patient/Observation.read", Patient, "Observation", v1Read, 1)},
		{"user/*.*", clinical("user/*.*", User, "*", all, 1)},
		{"patient/Immunization.*", clinical("patient/Immunization.*", Patient, "Immunization", all, 1)},
		{"system/*.read", clinical("system/*.read", System, "*", v1Read, 1)},

		// Malformed: grant nothing.
		{"patient/Observation.sr", unknown("patient/Observation.sr")},
		{"patient/Observation.rr", unknown("patient/Observation.rr")},
		{"patient/Observation.dus", unknown("patient/Observation.dus")},
		{"patient/Observation.crudss", unknown("patient/Observation.crudss")},
		{"patient/Observation.x", unknown("patient/Observation.x")},
		{"patient/observation.rs", unknown("patient/observation.rs")},
		{"Patient/Observation.rs", unknown("Patient/Observation.rs")},
		{"PATIENT/Observation.rs", unknown("PATIENT/Observation.rs")},
		{"patient/Observation.readx", unknown("patient/Observation.readx")},
		{"patient/Observation.Read", unknown("patient/Observation.Read")},
		{"patient/Observation.RS", unknown("patient/Observation.RS")},
		{"patient/Observation.", unknown("patient/Observation.")},
		{"patient/Observation", unknown("patient/Observation")},
		{"patient/.rs", unknown("patient/.rs")},
		{"patient/*", unknown("patient/*")},
		{"patient/Obs1.rs", unknown("patient/Obs1.rs")},
		{"patient/Obs_x.rs", unknown("patient/Obs_x.rs")},
		{"patient/Observation.r.s", unknown("patient/Observation.r.s")},
		{"patient//Observation.rs", unknown("patient//Observation.rs")},
		{"patient/Observation/x.rs", unknown("patient/Observation/x.rs")},
		{"patients/Observation.rs", unknown("patients/Observation.rs")},
		{"/Observation.rs", unknown("/Observation.rs")},
		{"patient/Observation.rs?", unknown("patient/Observation.rs?")},
		{"patient/Observation.rs?&", unknown("patient/Observation.rs?&")},
		{"patient/Observation.rs?category", unknown("patient/Observation.rs?category")},
		{"patient/Observation.rs?category=", unknown("patient/Observation.rs?category=")},
		{"patient/Observation.rs?=lab", unknown("patient/Observation.rs?=lab")},
		{"patient/Observation.rs?code=%zz", unknown("patient/Observation.rs?code=%zz")},
		{"patient/Observation.read?category=lab", unknown("patient/Observation.read?category=lab")},
		{"patient/Observation.rs#x", unknown("patient/Observation.rs#x")},
		{"patient/Observation.rs\t", unknown("patient/Observation.rs\t")},
		{"patient/Observation.rs\"", unknown("patient/Observation.rs\"")},
		{"patient/Observation.rsé", unknown("patient/Observation.rsé")},
		{"patient.Immunization.read", unknown("patient.Immunization.read")},
		{"launch/", unknown("launch/")},
		{"Launch", unknown("Launch")},
		{"OpenID", unknown("OpenID")},
		{"fhiruser", unknown("fhiruser")},
	}
	for _, tt := range tests {
		t.Run(tt.tok, func(t *testing.T) {
			assert.Equal(t, tt.want, parseScope(tt.tok))
		})
	}
}

func TestPermissionFor(t *testing.T) {
	tests := []struct {
		i    Interaction
		want Permission
	}{
		{InteractionRead, Read},
		{InteractionVRead, Read},
		{InteractionHistoryInstance, Read},
		{InteractionSearch, Search},
		{InteractionHistoryType, Search},
		{InteractionHistorySystem, Search},
		{InteractionCreate, Create},
		{InteractionUpdate, Update},
		{InteractionPatch, Update},
		{InteractionDelete, Delete},
		{InteractionOperation, 0},
		{InteractionCapabilities, 0},
		{InteractionBatch, 0},
		{0, 0},
		{200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.i.String(), func(t *testing.T) {
			assert.Equal(t, tt.want, PermissionFor(tt.i))
		})
	}
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "cruds", all.String())
	assert.Equal(t, "rs", v1Read.String())
	assert.Equal(t, "cud", v1Writ.String())
	assert.Equal(t, "", Permission(0).String())
	assert.Equal(t, "patient", Patient.String())
	assert.Equal(t, "user", User.String())
	assert.Equal(t, "system", System.String())
	assert.Equal(t, "", Context(0).String())
	assert.Equal(t, "", Context(9).String())
	assert.Equal(t, "history-instance", InteractionHistoryInstance.String())
	assert.Equal(t, "batch", InteractionBatch.String())
	assert.Equal(t, "", Interaction(0).String())
	assert.Equal(t, "", Interaction(99).String())
	assert.Equal(t, "patient/*.rs", Scope{Raw: "patient/*.rs"}.String())
}

func TestIsResourceType(t *testing.T) {
	for s, want := range map[string]bool{
		"Observation": true, "ObservationDefinition": true, "A": true,
		"": false, "*": false, "observation": false, "Obs1": false, "Obs-x": false, "Ö": false,
	} {
		assert.Equal(t, want, IsResourceType(s), s)
	}
}
