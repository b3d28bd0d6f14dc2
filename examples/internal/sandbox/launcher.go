package sandbox

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// maxLauncherForm caps the launch page's form.
const maxLauncherForm = 16 << 10

// Launcher returns the launch page: GET shows the form, POST launches.
//
// An EHR launch signs the chosen provider in to the demo EHR (the session
// the sign-in step then finds), registers the launch — patient, encounter,
// need_patient_banner, smart_style_url, for the client given and that
// provider — and sends the browser to the app's launch URL with iss and
// launch. A standalone launch sends it to the launch URL with iss only.
// Posts from other sites are refused.
func (s *Sandbox) Launcher() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			s.launcherPage(w, http.StatusOK, "")
		case http.MethodPost:
			s.launch(w, r)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

func (s *Sandbox) launcherPage(w http.ResponseWriter, status int, msg string) {
	dir := s.cfg.Directory
	var encounters []Encounter
	for _, p := range dir.Patients() {
		for _, e := range dir.Encounters(p.ID) {
			e.Name = p.Name + " — " + e.Name
			encounters = append(encounters, e)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pages["launcher"].Execute(w, struct {
		Action, Error, AppURL, ClientID string
		Providers, Patients             []Person
		Encounters                      []Encounter
	}{s.cfg.LauncherURL, msg, s.cfg.AppLaunchURL, s.cfg.AppClientID, dir.Practitioners(), dir.Patients(), encounters})
}

func (s *Sandbox) launch(w http.ResponseWriter, r *http.Request) {
	if err := s.crossOrigin.Check(r); err != nil {
		http.Error(w, "a launch posted from another site is refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLauncherForm)
	if err := r.ParseForm(); err != nil {
		s.launcherPage(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	f := r.PostForm
	app, err := url.Parse(f.Get("app_url"))
	if err != nil || (app.Scheme != "https" && app.Scheme != "http") || app.Host == "" || app.User != nil {
		s.launcherPage(w, http.StatusBadRequest, "The launch URL must be an absolute http or https URL.")
		return
	}
	q := app.Query()
	q.Set("iss", s.cfg.FHIRBaseURL)
	if f.Get("launch_type") == "ehr" {
		dir := s.cfg.Directory
		provider, okProvider := findPerson(dir.Practitioners(), f.Get("provider"))
		patient, okPatient := findPerson(dir.Patients(), f.Get("patient"))
		encounter := f.Get("encounter")
		okEncounter := encounter == ""
		for _, e := range dir.Encounters(patient.ID) {
			okEncounter = okEncounter || e.ID == encounter
		}
		if !okProvider || !okPatient || !okEncounter {
			s.launcherPage(w, http.StatusBadRequest, "Choose a provider, a patient and one of their encounters.")
			return
		}
		banner := f.Get("need_patient_banner") == "true"
		subject := "practitioner-" + provider.ID
		launch, err := s.cfg.Launches.CreateLaunch(r.Context(), authserver.EHRLaunch{
			ClientID: strings.TrimSpace(f.Get("client_id")),
			Subject:  subject,
			Context: authserver.Launch{
				Patient: patient.ID, Encounter: encounter, NeedPatientBanner: &banner,
				SmartStyleURL: strings.TrimSpace(f.Get("smart_style_url")),
			},
		})
		if err != nil {
			s.launcherPage(w, http.StatusServiceUnavailable, "The launch could not be registered; try again.")
			return
		}
		s.session.set(w, subject)
		q.Set("launch", launch)
	}
	app.RawQuery = q.Encode()
	http.Redirect(w, r, app.String(), http.StatusSeeOther)
}
