package sandbox

import "strings"

// Person is a patient or practitioner of the data set.
type Person struct {
	// ID is the FHIR id of the Patient or Practitioner resource.
	ID string
	// Name is the display name.
	Name string
}

// Encounter is an encounter of a patient.
type Encounter struct {
	// ID is the FHIR id of the Encounter resource.
	ID string
	// Patient is the FHIR id of its patient.
	Patient string
	// Name describes it (type, period).
	Name string
}

// Directory is what the sandbox reads of the FHIR data set.
type Directory interface {
	// Patients returns the patients, in a stable order.
	Patients() []Person
	// Practitioners returns the practitioners, in a stable order.
	Practitioners() []Person
	// Encounters returns the encounters of a patient, in a stable order.
	Encounters(patient string) []Encounter
}

// user is one of the users who may sign in: every practitioner and every
// patient of the directory.
type user struct {
	Subject  string // "practitioner-<id>" or "patient-<id>"
	FHIRUser string // "Practitioner/<id>" or "Patient/<id>"
	Name     string
}

// users lists who may sign in: practitioners first.
func users(d Directory) []user {
	var us []user
	for _, p := range d.Practitioners() {
		us = append(us, user{Subject: "practitioner-" + p.ID, FHIRUser: "Practitioner/" + p.ID, Name: p.Name})
	}
	for _, p := range d.Patients() {
		us = append(us, user{Subject: "patient-" + p.ID, FHIRUser: "Patient/" + p.ID, Name: p.Name + " (patient)"})
	}
	return us
}

// findUser returns the user with the subject, if any.
func findUser(d Directory, subject string) (user, bool) {
	for _, u := range users(d) {
		if u.Subject == subject {
			return u, true
		}
	}
	return user{}, false
}

// patientOf returns the patient id of a patient user's fhirUser.
func patientOf(fhirUser string) (string, bool) {
	return strings.CutPrefix(fhirUser, "Patient/")
}

// findPerson returns the person with id in ps.
func findPerson(ps []Person, id string) (Person, bool) {
	for _, p := range ps {
		if p.ID == id {
			return p, true
		}
	}
	return Person{}, false
}
