package authserver

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"time"
)

// The authorization endpoint asks the host three things, in this order:
// who the user is (Login), which patient the app is to work with when it
// asked for one and none is in context yet (PatientPicker), and which of
// the requested scopes the user and the host's policy allow (Consent).
// Each is a web step: it may answer at once (a session cookie, a policy),
// or show a page and answer when the user posts that page back.
//
// A step's method gets the request, a writer and the Interaction, and
// returns (result, done, err):
//
//   - done: the step is over, result is its answer; the endpoint goes on
//     to the next step, or issues the code;
//   - not done, nil error: the step has written a response — an HTML page
//     whose form posts (method POST) to Interaction.FormAction and holds
//     Interaction.HiddenFields. When the user submits it, the endpoint
//     calls the same step again with the posted form in
//     Interaction.Answer;
//   - an error: ErrAccessDenied (possibly wrapped) sends the app
//     access_denied; any other error is a failure, answered server_error
//     and logged.
//
// The endpoint keeps nothing on the server between the requests of one
// authorization: the request, and the answers of the steps so far, travel
// sealed (encrypted and authenticated, see AuthorizationConfig.InteractionKey)
// in the hidden field, bound to the browser that made the request by a
// cookie (HttpOnly, SameSite=Lax, Secure over https). A post whose field
// was not sealed by the endpoint, has expired, or comes from another
// browser, or from another site (http.CrossOriginProtection), is refused
// before any step sees it — that is the protection of the steps' forms
// against cross-site request forgery, and the host needs no other. The
// code is issued once per authorization: submitting the last page twice
// issues nothing the second time.

// ErrAccessDenied is returned by a step (Login, PatientPicker, Consent)
// when the user, or the host's policy, refuses the authorization: the app
// gets the access_denied error at its redirect URI (RFC 6749 §4.1.2.1).
var ErrAccessDenied = errors.New("authserver: access denied")

// InteractionField is the name of the hidden form field that carries an
// authorization through the steps' pages (see Interaction.HiddenFields).
const InteractionField = "smartauth_interaction"

// User is the user who authorizes the app, as Login identifies them.
type User struct {
	// Subject identifies the user: the sub of the ID token and of the
	// access tokens. Required.
	Subject string
	// FHIRUser is the FHIR resource of the user (fhirUser), e.g.
	// "Practitioner/123" or an absolute URL. Zero value: none.
	FHIRUser string
	// AuthTime is when the user authenticated (auth_time of the ID
	// token). Zero value: when Login returned the user.
	AuthTime time.Time
}

// PatientSelection is the answer of a PatientPicker.
type PatientSelection struct {
	// Patient is the FHIR id of the patient chosen. Empty: none (the
	// launch/patient scope is then not granted).
	Patient string
	// Encounter is the FHIR id of the encounter chosen, when
	// Interaction.NeedEncounter. Empty: none (launch/encounter is then
	// not granted).
	Encounter string
}

// Login identifies the user at the authorization endpoint: from the
// host's session (single sign-on: done at once), or with a sign-in page.
type Login interface {
	// Authenticate returns the user and true, or writes a page and
	// returns false, or returns an error (see the steps above).
	Authenticate(w http.ResponseWriter, r *http.Request, in *Interaction) (u User, done bool, err error)
}

// PatientPicker establishes the patient context of a standalone launch:
// it is asked when the app requested launch/patient (or launch/encounter)
// and no patient is in context (Interaction.NeedPatient, NeedEncounter).
type PatientPicker interface {
	// PickPatient returns the selection and true, or writes a page (a
	// patient search, a list) and returns false, or returns an error.
	PickPatient(w http.ResponseWriter, r *http.Request, in *Interaction) (sel PatientSelection, done bool, err error)
}

// Consent decides which of the requested scopes are granted: those the
// user approves and the host's policy allows, possibly fewer than were
// requested (the token response tells the app which, as SMART requires).
type Consent interface {
	// Approve returns the granted scope (space-separated; each token
	// covered by the requested scope, see Interaction.Scope) and true, or
	// writes a page and returns false, or returns an error. An empty
	// scope is a refusal (access_denied).
	Approve(w http.ResponseWriter, r *http.Request, in *Interaction) (scope string, done bool, err error)
}

// LoginFunc adapts a function to Login.
type LoginFunc func(w http.ResponseWriter, r *http.Request, in *Interaction) (User, bool, error)

// Authenticate calls f.
func (f LoginFunc) Authenticate(w http.ResponseWriter, r *http.Request, in *Interaction) (User, bool, error) {
	return f(w, r, in)
}

// PatientPickerFunc adapts a function to PatientPicker.
type PatientPickerFunc func(w http.ResponseWriter, r *http.Request, in *Interaction) (PatientSelection, bool, error)

// PickPatient calls f.
func (f PatientPickerFunc) PickPatient(w http.ResponseWriter, r *http.Request, in *Interaction) (PatientSelection, bool, error) {
	return f(w, r, in)
}

// ConsentFunc adapts a function to Consent.
type ConsentFunc func(w http.ResponseWriter, r *http.Request, in *Interaction) (string, bool, error)

// Approve calls f.
func (f ConsentFunc) Approve(w http.ResponseWriter, r *http.Request, in *Interaction) (string, bool, error) {
	return f(w, r, in)
}

// Interaction is what a step knows of the authorization in progress. The
// steps must not modify it.
type Interaction struct {
	// Client is the client asking for authorization (without its
	// SecretHash).
	Client Client
	// RedirectURI is where the app will receive the answer.
	RedirectURI string
	// Scope is the requested scope, space-separated, without repetitions.
	Scope string
	// EHRLaunch reports an EHR launch: the request named a launch the EHR
	// registered (AuthorizationHandler.CreateLaunch), whose context is in
	// Launch.
	EHRLaunch bool
	// Launch is the launch context so far: the EHR's, then the patient
	// (and encounter) picked.
	Launch Launch
	// NeedPatient and NeedEncounter report that the app asked for a
	// patient (launch/patient) or an encounter (launch/encounter) that is
	// not in context yet: the PatientPicker is asked for them.
	NeedPatient, NeedEncounter bool
	// User is the signed-in user; zero while Login runs.
	User User
	// Answer is the form the user posted from this step's page (every
	// field, repeated ones included), or nil when the step is asked
	// before any page of it was shown, or after another step's page was
	// posted. Steps read the user's answer here, not in the request,
	// whose body the endpoint has read.
	Answer url.Values

	action string // FormAction
	sealed string // the value of InteractionField for this step
}

// FormAction returns the URL the step's page posts its form to: the
// authorization endpoint.
func (in *Interaction) FormAction() string { return in.action }

// FieldValue returns the value of the InteractionField hidden field for
// this step's page, for renderers other than html/template (see
// HiddenFields).
func (in *Interaction) FieldValue() string { return in.sealed }

// HiddenFields returns the hidden input element that carries the
// authorization through this step's page; put it inside the form.
func (in *Interaction) HiddenFields() template.HTML {
	return template.HTML(`<input type="hidden" name="` + InteractionField + `" value="` +
		template.HTMLEscapeString(in.sealed) + `">`)
}
