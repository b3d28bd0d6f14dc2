package sandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// Launches registers EHR launches; *authserver.AuthorizationHandler is
// one.
type Launches interface {
	CreateLaunch(ctx context.Context, l authserver.EHRLaunch) (string, error)
}

// Config configures New. Every field but Secure and Now is required.
type Config struct {
	// Directory is the data set's patients, practitioners and encounters.
	Directory Directory
	// FHIRBaseURL is the iss the launches give the app.
	FHIRBaseURL string
	// Launches registers the EHR launches of the launch page.
	Launches Launches
	// LauncherURL is where the launch page is mounted (its form posts to
	// it).
	LauncherURL string
	// AppLaunchURL and AppClientID are the app the launch page proposes.
	AppLaunchURL, AppClientID string
	// Secure marks the session cookie Secure (a server behind https).
	Secure bool
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// Sandbox is the demo EHR: the sign-in, patient-picker and consent steps
// of the authorization endpoint (it implements authserver.Login,
// authserver.PatientPicker and authserver.Consent), and the launch page.
type Sandbox struct {
	cfg         Config
	session     session
	crossOrigin *http.CrossOriginProtection
}

var (
	_ authserver.Login         = (*Sandbox)(nil)
	_ authserver.PatientPicker = (*Sandbox)(nil)
	_ authserver.Consent       = (*Sandbox)(nil)
)

// New returns a sandbox.
func New(cfg Config) (*Sandbox, error) {
	if cfg.Directory == nil || cfg.FHIRBaseURL == "" || cfg.Launches == nil || cfg.LauncherURL == "" ||
		cfg.AppLaunchURL == "" || cfg.AppClientID == "" {
		return nil, errors.New("sandbox: Directory, FHIRBaseURL, Launches, LauncherURL, AppLaunchURL and AppClientID are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Sandbox{
		cfg:         cfg,
		session:     session{key: key, secure: cfg.Secure, now: cfg.Now},
		crossOrigin: http.NewCrossOriginProtection(),
	}, nil
}

// Authenticate signs the user in: from the session cookie (the EHR's
// single sign-on; the launch page sets it for the provider), or with the
// sign-in page, which lists every user of the data set.
func (s *Sandbox) Authenticate(w http.ResponseWriter, r *http.Request, in *authserver.Interaction) (authserver.User, bool, error) {
	if in.Answer == nil {
		if sub, at, ok := s.session.get(r); ok {
			if u, ok := findUser(s.cfg.Directory, sub); ok {
				return authserver.User{Subject: u.Subject, FHIRUser: u.FHIRUser, AuthTime: at}, true, nil
			}
		}
		s.loginPage(w, in, "")
		return authserver.User{}, false, nil
	}
	if in.Answer.Get("action") == "cancel" {
		return authserver.User{}, false, authserver.ErrAccessDenied
	}
	u, ok := findUser(s.cfg.Directory, in.Answer.Get("user"))
	if !ok {
		s.loginPage(w, in, "Choose a user of the list.")
		return authserver.User{}, false, nil
	}
	s.session.set(w, u.Subject)
	return authserver.User{Subject: u.Subject, FHIRUser: u.FHIRUser, AuthTime: s.cfg.Now()}, true, nil
}

func (s *Sandbox) loginPage(w http.ResponseWriter, in *authserver.Interaction, msg string) {
	render(w, "login", struct {
		ClientID, Action, Error string
		Hidden                  template.HTML
		Users                   []user
	}{in.Client.ID, in.FormAction(), msg, in.HiddenFields(), users(s.cfg.Directory)})
}

// choice is one option of the picker: a patient, or a patient's
// encounter ("patient/encounter").
type choice struct{ Value, Label string }

// PickPatient establishes the patient (and encounter) of a standalone
// launch. A patient who signed in is the patient; anyone else chooses
// among the patients of the data set (or their encounters, when the app
// asked for launch/encounter).
func (s *Sandbox) PickPatient(w http.ResponseWriter, _ *http.Request, in *authserver.Interaction) (authserver.PatientSelection, bool, error) {
	dir := s.cfg.Directory
	var patients []Person
	switch self, isPatient := patientOf(in.User.FHIRUser); {
	case in.Launch.Patient != "":
		self = in.Launch.Patient // the EHR gave the patient; an encounter is missing
		fallthrough
	case isPatient:
		if p, ok := findPerson(dir.Patients(), self); ok {
			patients = []Person{p}
		}
	default:
		patients = dir.Patients()
	}
	var choices []choice
	for _, p := range patients {
		if !in.NeedEncounter {
			choices = append(choices, choice{Value: p.ID, Label: p.Name})
			continue
		}
		for _, e := range dir.Encounters(p.ID) {
			choices = append(choices, choice{Value: p.ID + "/" + e.ID, Label: p.Name + " — " + e.Name})
		}
	}
	if len(choices) == 0 {
		return authserver.PatientSelection{}, true, nil // nothing to pick: the context scopes are not granted
	}
	if _, isPatient := patientOf(in.User.FHIRUser); isPatient && len(choices) == 1 && in.Answer == nil {
		return selection(choices[0].Value), true, nil
	}
	if in.Answer != nil {
		if in.Answer.Get("action") == "cancel" {
			return authserver.PatientSelection{}, false, authserver.ErrAccessDenied
		}
		for _, c := range choices {
			if c.Value == in.Answer.Get("choice") {
				return selection(c.Value), true, nil
			}
		}
	}
	msg := ""
	if in.Answer != nil {
		msg = "Choose one of the list."
	}
	render(w, "picker", struct {
		ClientID, Action, Error string
		Hidden                  template.HTML
		NeedEncounter           bool
		Choices                 []choice
	}{in.Client.ID, in.FormAction(), msg, in.HiddenFields(), in.NeedEncounter, choices})
	return authserver.PatientSelection{}, false, nil
}

func selection(value string) authserver.PatientSelection {
	p, e, _ := strings.Cut(value, "/")
	return authserver.PatientSelection{Patient: p, Encounter: e}
}

// scopeLine is a requested scope on the consent page.
type scopeLine struct{ Token, Meaning string }

// Approve asks the user which of the requested scopes to grant.
func (s *Sandbox) Approve(w http.ResponseWriter, _ *http.Request, in *authserver.Interaction) (string, bool, error) {
	if in.Answer != nil {
		if in.Answer.Get("action") != "allow" {
			return "", false, authserver.ErrAccessDenied
		}
		return strings.Join(in.Answer["scope"], " "), true, nil // the endpoint keeps only requested scopes
	}
	var lines []scopeLine
	for tok := range strings.FieldsSeq(in.Scope) {
		lines = append(lines, scopeLine{Token: tok, Meaning: meaning(tok)})
	}
	patient := ""
	if in.Launch.Patient != "" {
		patient = in.Launch.Patient
		if p, ok := findPerson(s.cfg.Directory.Patients(), in.Launch.Patient); ok {
			patient = p.Name
		}
	}
	who := in.User.Subject
	if u, ok := findUser(s.cfg.Directory, in.User.Subject); ok {
		who = u.Name
	}
	render(w, "consent", struct {
		ClientID, Action, User, Patient string
		Hidden                          template.HTML
		Scopes                          []scopeLine
	}{in.Client.ID, in.FormAction(), who, patient, in.HiddenFields(), lines})
	return "", false, nil
}

// meaning explains a scope on the consent page.
func meaning(tok string) string {
	switch {
	case tok == "openid", tok == "fhirUser", tok == "profile":
		return "who you are"
	case tok == "launch":
		return "the patient and encounter open in the EHR"
	case tok == "launch/patient":
		return "the patient chosen"
	case tok == "launch/encounter":
		return "the encounter chosen"
	case tok == "offline_access":
		return "keep access after you sign out"
	case tok == "online_access":
		return "keep access while you are signed in"
	case strings.HasPrefix(tok, "patient/"):
		return "this patient's " + strings.TrimPrefix(tok, "patient/")
	case strings.HasPrefix(tok, "user/"):
		return "what you may see: " + strings.TrimPrefix(tok, "user/")
	}
	return ""
}
