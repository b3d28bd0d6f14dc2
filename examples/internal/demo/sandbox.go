package demo

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/smartauth/smartauth/examples/internal/sandbox"
	"github.com/smartauth/smartauth/examples/smartapp"
	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// The routes of the SMART sandbox, relative to BaseURL.
const (
	authorizationPath = "/auth/authorize"
	launcherPath      = "/launcher"
)

// SampleAppClientID is the client_id of the sample app (a public client)
// that the demo registers when it serves the app (Options.AppURL).
const SampleAppClientID = "sample-app"

// withSampleApp returns the configured clients and, if the demo serves the
// sample app at appURL, the app's public client, whose redirect URI is
// appURL + "/".
func withSampleApp(cs []ClientConfig, appURL string) []ClientConfig {
	if appURL == "" {
		return cs
	}
	return append(slices.Clone(cs), ClientConfig{
		ClientID: SampleAppClientID, AuthMethod: string(authserver.AuthNone), RedirectURIs: []string{sampleAppRedirect(appURL)},
	})
}

func sampleAppRedirect(appURL string) string { return strings.TrimRight(appURL, "/") + "/" }

// corsOrigins returns the configured CORS origins and the sample app's.
func corsOrigins(configured []string, appURL string) []string {
	if appURL == "" || slices.Contains(configured, strings.TrimRight(appURL, "/")) {
		return configured
	}
	return append(slices.Clone(configured), strings.TrimRight(appURL, "/"))
}

// codeGrants is the authorization_code grant, if the store keeps codes.
func codeGrants(store tokenstore.Store) []authserver.GrantHandler {
	if cs, ok := store.(tokenstore.CodeStore); ok {
		return []authserver.GrantHandler{authserver.NewCodeGrant(cs)}
	}
	return nil
}

// sandboxDeps is what the sandbox needs of New.
type sandboxDeps struct {
	issuer  string
	appURL  string
	store   tokenstore.Store
	clients authserver.ClientStore
	keys    *authserver.KeySet
	data    *resources
	logger  *slog.Logger
	now     func() time.Time
}

// mountSandbox adds the authorization endpoint with the sandbox's sign-in,
// patient-picker and consent pages, the launch page, the OpenID
// configuration (when the issuer is this server) and, with an AppURL, the
// sample app's handler. It returns the capabilities to advertise; none if
// the store keeps no codes.
func (s *Server) mountSandbox(mux *http.ServeMux, d sandboxDeps) ([]string, error) {
	store, ok := d.store.(authserver.AuthorizationStore)
	if !ok {
		d.logger.Warn("the token store keeps no authorization codes: no authorization endpoint")
		return nil, nil
	}
	base := strings.TrimSuffix(s.TokenURL, tokenPath)
	s.AuthorizationURL = base + authorizationPath
	s.LauncherURL = base + launcherPath
	appLaunch := s.LauncherURL // without a sample app, the launcher proposes nothing better
	if d.appURL != "" {
		s.AppURL = sampleAppRedirect(d.appURL)
		appLaunch = s.AppURL
	}
	var launches lateLaunches
	sb, err := sandbox.New(sandbox.Config{
		Directory: directory{d.data}, FHIRBaseURL: s.FHIRBaseURL, Launches: &launches,
		LauncherURL: s.LauncherURL, AppLaunchURL: appLaunch, AppClientID: SampleAppClientID,
		Secure: strings.HasPrefix(base, "https://"), Now: d.now,
	})
	if err != nil {
		return nil, err
	}
	authz, err := authserver.NewAuthorizationHandler(authserver.AuthorizationConfig{
		Endpoint: s.AuthorizationURL, Issuer: d.issuer, Audience: s.FHIRBaseURL,
		Clients: d.clients, Store: store,
		Login: sb, Patients: sb, Consent: sb,
		Logger: d.logger, Now: d.now,
	})
	if err != nil {
		return nil, err
	}
	launches.h = authz
	s.Authorization = authz
	mux.Handle(authorizationPath, authz)
	mux.Handle(launcherPath, sb.Launcher())

	caps := append(authz.Capabilities(), authserver.CapabilityContextStandaloneEncounter)
	if d.issuer == base {
		oidc, err := authserver.NewOpenIDConfigurationHandler(authserver.OpenIDConfig{
			Issuer: d.issuer, AuthorizationEndpoint: s.AuthorizationURL, TokenEndpoint: s.TokenURL,
			JWKSURI: s.JWKSURL, SigningAlgorithms: []string{d.keys.Algorithm()},
			ScopesSupported: []string{"openid", "fhirUser", "profile"},
		})
		if err != nil {
			return nil, err
		}
		mux.Handle(authserver.OpenIDConfigurationPath, oidc)
		caps = append(caps, authserver.CapabilitySSOOpenIDConnect)
	}

	if d.appURL != "" {
		app, err := smartapp.Handler(smartapp.Config{ClientID: SampleAppClientID, RedirectURI: s.AppURL, FHIRBaseURL: s.FHIRBaseURL})
		if err != nil {
			return nil, err
		}
		s.AppHandler = app
	}
	return caps, nil
}

// lateLaunches lets the sandbox, made before the authorization endpoint
// (which needs its steps), register launches with it.
type lateLaunches struct {
	h *authserver.AuthorizationHandler
}

func (l *lateLaunches) CreateLaunch(ctx context.Context, e authserver.EHRLaunch) (string, error) {
	return l.h.CreateLaunch(ctx, e)
}

// directory is the sandbox's view of the demo's data set.
type directory struct{ data *resources }

func (d directory) Patients() []sandbox.Person { return d.people("Patient") }

func (d directory) Practitioners() []sandbox.Person { return d.people("Practitioner") }

func (d directory) people(typ string) []sandbox.Person {
	var ps []sandbox.Person
	for _, r := range d.data.byType[typ] {
		ps = append(ps, sandbox.Person{ID: r.ID, Name: personName(r.JSON)})
	}
	return ps
}

func (d directory) Encounters(patient string) []sandbox.Encounter {
	var es []sandbox.Encounter
	for _, r := range d.data.search("Encounter", patient) {
		if patient == "" {
			continue
		}
		var e struct {
			Class struct {
				Display string `json:"display"`
			} `json:"class"`
			Period struct {
				Start string `json:"start"`
			} `json:"period"`
		}
		_ = json.Unmarshal(r.JSON, &e)
		name := strings.TrimSpace(e.Class.Display + " " + e.Period.Start)
		if name == "" {
			name = r.ID
		}
		es = append(es, sandbox.Encounter{ID: r.ID, Patient: patient, Name: name})
	}
	return es
}

// personName is the display name of a Patient or Practitioner.
func personName(b json.RawMessage) string {
	var p struct {
		ID   string `json:"id"`
		Name []struct {
			Prefix []string `json:"prefix"`
			Given  []string `json:"given"`
			Family string   `json:"family"`
		} `json:"name"`
	}
	_ = json.Unmarshal(b, &p)
	if len(p.Name) == 0 {
		return p.ID
	}
	n := p.Name[0]
	return strings.Join(slices.Concat(n.Prefix, n.Given, []string{n.Family}), " ")
}
