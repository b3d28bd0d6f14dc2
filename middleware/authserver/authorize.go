package authserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// Lifetimes of the authorization endpoint (AuthorizationConfig).
const (
	// DefaultCodeLifetime is how long an authorization code can be
	// exchanged: 60 seconds, which is also the most CodeLifetime may be
	// (SMART: "usually expiring within around one minute").
	DefaultCodeLifetime = 60 * time.Second
	// DefaultInteractionLifetime is how long the user has to go through
	// the steps (sign in, pick a patient, consent) of one authorization.
	DefaultInteractionLifetime = 10 * time.Minute
)

// GrantTypeAuthorizationCode is the grant_type of the code exchange.
const GrantTypeAuthorizationCode = "authorization_code"

// AuthorizationStore is what the authorization endpoint keeps: codes and
// launches (tokenstore.CodeStore), and the single completion of each
// authorization (UseOnce, as tokenstore.Store has it). The stores of
// package tokenstore and its subpackages implement it; give the token
// endpoint the same store.
type AuthorizationStore interface {
	tokenstore.CodeStore
	UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error
}

// AuthorizationConfig configures NewAuthorizationHandler. Endpoint,
// Issuer, Audience, Clients, Store, Login and Consent are required; every
// other zero value is documented.
type AuthorizationConfig struct {
	// Endpoint is the public URL of the authorization endpoint (the
	// authorization_endpoint of discovery): https, or http for a loopback
	// host. The steps' forms post to it, and the browser-binding cookie
	// is scoped to its path.
	Endpoint string
	// Issuer is the authorization server's issuer identifier, sent as
	// the iss parameter of every answer at the redirect URI (RFC 9207:
	// apps that talk to several servers tell them apart). Advertise it
	// with authorization_response_iss_parameter_supported in discovery.
	Issuer string
	// Audience is the FHIR base URL of the resource server: the only aud
	// accepted (SMART App Launch: it "prevents leaking a genuine bearer
	// token to a counterfeit resource server"). A trailing slash on
	// either side is ignored; nothing else is.
	Audience string
	// Clients looks up the registered clients and their RedirectURIs.
	Clients ClientStore
	// Store keeps the codes and the launches.
	Store AuthorizationStore

	// Login identifies the user.
	Login Login
	// Patients establishes the patient (and encounter) context of
	// standalone launches that ask for it (launch/patient,
	// launch/encounter). Zero value: none; those scopes are then granted
	// only when an EHR launch brings the context, and discovery must not
	// list context-standalone-patient (see Capabilities).
	Patients PatientPicker
	// Consent decides the granted scope.
	Consent Consent

	// CodeLifetime is how long a code can be exchanged. Zero value:
	// DefaultCodeLifetime (60 s), the most it may be.
	CodeLifetime time.Duration
	// LaunchLifetime is how long a launch value made by CreateLaunch can
	// be used. Zero value: DefaultLaunchLifetime.
	LaunchLifetime time.Duration
	// InteractionLifetime is how long the user has to go through the
	// steps of one authorization. Zero value: DefaultInteractionLifetime.
	InteractionLifetime time.Duration
	// InteractionKey is the AES-256 key (InteractionKeySize bytes) that
	// seals authorizations in progress into the steps' pages. Every
	// instance serving the endpoint needs the same key; changing it ends
	// the authorizations in progress (their users start again from the
	// app). Keep it secret: whoever holds it can forge the steps'
	// answers. Zero value: a random key, good for one process only.
	InteractionKey []byte
	// FrameAncestors are the origins that may show the endpoint's pages
	// in a frame (Content-Security-Policy frame-ancestors), for an EHR
	// that launches apps in an iframe. Zero value: none (and
	// X-Frame-Options: DENY), so that no site can overlay the consent
	// page (clickjacking).
	FrameAncestors []string

	// StoreTimeout bounds each call to Store and Clients. Zero value:
	// DefaultStoreTimeout.
	StoreTimeout time.Duration
	// MaxBodySize caps the body of POST requests. Zero value:
	// DefaultMaxBodySize.
	MaxBodySize int64
	// ErrorPage writes the errors that are shown to the user rather than
	// sent to the app: those found before the redirect URI is known to be
	// the client's (RFC 6749 §4.1.2.1), and refused step posts. e.Status
	// is the HTTP status to answer with; e.Description is safe to show.
	// Zero value: a minimal HTML page.
	ErrorPage func(w http.ResponseWriter, r *http.Request, e *Error)

	// Audit receives security events. Zero value: SlogAudit(Logger).
	Audit AuditFunc
	// Logger logs server errors (never a code, token or secret). Zero
	// value: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// Audit event kinds of the authorization endpoint and the code exchange.
const (
	// AuditCodeIssued: the authorization endpoint issued a code. GrantID
	// is the grant the code will create.
	AuditCodeIssued = "code_issued"
	// AuditAuthorizationRefused: the authorization endpoint refused a
	// request at the app's redirect URI. Reason is the error code.
	AuditAuthorizationRefused = "authorization_refused"
	// AuditLaunchCreated: CreateLaunch registered an EHR launch.
	AuditLaunchCreated = "launch_created"
	// AuditCodeExchanged: a code was exchanged for tokens; GrantID is the
	// grant created.
	AuditCodeExchanged = "code_exchanged"
	// AuditCodeRefused: a code exchange was refused. Reason:
	// "not_found", "expired", "client_mismatch", "redirect_uri",
	// "code_verifier" (the code is consumed by these three), "conflict"
	// (a grant with the code's grant ID exists: the host created it
	// outside the code flow; the code is left unused), "store_error" or
	// "store_timeout".
	AuditCodeRefused = "code_refused"
	// AuditCodeReused: a used code was presented again; the grant made
	// from it is revoked.
	AuditCodeReused = "code_reused"
)

// AuthorizationHandler is the OAuth 2.0 authorization endpoint (RFC 6749
// §3.1, §4.1) as SMART App Launch 2.2 profiles it: response_type=code
// with PKCE S256, the aud parameter, the EHR launch (launch parameter,
// CreateLaunch) and the standalone launch (launch/patient with a
// PatientPicker). It answers GET and POST (authorize-post).
//
// A request is checked in this order. Until the redirect URI is known to
// be one the client registered, errors are shown to the user (ErrorPage)
// and never redirected (RFC 6749 §4.1.2.1): a missing or unknown
// client_id (invalid_request), a client without redirect URIs
// (unauthorized_client), a redirect_uri that is not registered, compared
// exactly, or missing while several are registered (invalid_request).
// After that, every error goes to the redirect URI with state and iss:
// request or request_uri (request_not_supported,
// request_uri_not_supported), response_type (invalid_request when
// missing, unsupported_response_type unless "code"), a missing state
// (invalid_request: SMART apps SHALL send one), aud (invalid_request), a
// missing or malformed code_challenge (invalid_request), a method other
// than S256 — plain included — (invalid_request, "transform algorithm not
// supported", RFC 7636 §4.4.1), scope (invalid_scope when missing or
// malformed), prompt=none (interaction_required: every authorization has
// steps), and the launch: the launch scope without a launch parameter or
// the reverse, or a launch that is unknown, used, expired or another
// client's (invalid_request).
//
// The steps then run (see Login, PatientPicker, Consent); a refusal is
// access_denied. The granted scope is what Consent returned, less the
// launch context scopes whose context is missing (launch/patient without
// a patient, launch/encounter without an encounter). The code is valid
// for CodeLifetime, bound to the client, the redirect URI, the code
// challenge and the grant it will create, and stored hashed; it is
// exchanged at the token endpoint (CodeGrant).
type AuthorizationHandler struct {
	endpoint, issuer, audience string
	clients                    ClientStore
	store                      AuthorizationStore
	login                      Login
	patients                   PatientPicker
	consent                    Consent
	codeLifetime               time.Duration
	launchLifetime             time.Duration
	interactionLifetime        time.Duration
	storeTimeout               time.Duration
	maxBody                    int64
	sealer                     sealer
	cookie                     browserCookie
	frameAncestors             string
	errorPage                  func(http.ResponseWriter, *http.Request, *Error)
	crossOrigin                *http.CrossOriginProtection
	audit                      AuditFunc
	logger                     *slog.Logger
	now                        func() time.Time
}

// NewAuthorizationHandler returns an authorization endpoint configured by
// cfg.
func NewAuthorizationHandler(cfg AuthorizationConfig) (*AuthorizationHandler, error) {
	switch {
	case cfg.Endpoint == "", cfg.Issuer == "", cfg.Audience == "":
		return nil, errors.New("authserver: AuthorizationConfig.Endpoint, Issuer and Audience are required")
	case cfg.Clients == nil, cfg.Store == nil:
		return nil, errors.New("authserver: AuthorizationConfig.Clients and Store are required")
	case cfg.Login == nil, cfg.Consent == nil:
		return nil, errors.New("authserver: AuthorizationConfig.Login and Consent are required")
	case cfg.CodeLifetime < 0, cfg.LaunchLifetime < 0, cfg.InteractionLifetime < 0, cfg.StoreTimeout < 0, cfg.MaxBodySize < 0:
		return nil, errors.New("authserver: AuthorizationConfig durations and sizes must not be negative")
	case cfg.CodeLifetime > DefaultCodeLifetime:
		return nil, fmt.Errorf("authserver: AuthorizationConfig.CodeLifetime must not exceed %v", DefaultCodeLifetime)
	}
	if err := checkEndpointURL(cfg.Endpoint, true); err != nil {
		return nil, fmt.Errorf("authserver: AuthorizationConfig.Endpoint: %w", err)
	}
	endpoint, _ := url.Parse(cfg.Endpoint)
	for _, origin := range cfg.FrameAncestors {
		if origin == "" || strings.ContainsAny(origin, " ;,'\"") || strings.ContainsFunc(origin, isControl) {
			return nil, fmt.Errorf("authserver: AuthorizationConfig.FrameAncestors: %q is not an origin", origin)
		}
	}
	key := cfg.InteractionKey
	if len(key) == 0 {
		key = make([]byte, InteractionKeySize)
		_, _ = rand.Read(key)
	}
	seal, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	h := &AuthorizationHandler{
		endpoint:            cfg.Endpoint,
		issuer:              cfg.Issuer,
		audience:            strings.TrimSuffix(cfg.Audience, "/"),
		clients:             cfg.Clients,
		store:               cfg.Store,
		login:               cfg.Login,
		patients:            cfg.Patients,
		consent:             cfg.Consent,
		codeLifetime:        orDuration(cfg.CodeLifetime, DefaultCodeLifetime),
		launchLifetime:      orDuration(cfg.LaunchLifetime, DefaultLaunchLifetime),
		interactionLifetime: orDuration(cfg.InteractionLifetime, DefaultInteractionLifetime),
		storeTimeout:        storeTimeout(cfg.StoreTimeout),
		maxBody:             cfg.MaxBodySize,
		sealer:              seal,
		errorPage:           cfg.ErrorPage,
		crossOrigin:         http.NewCrossOriginProtection(),
		audit:               cfg.Audit,
		logger:              cfg.Logger,
		now:                 cfg.Now,
	}
	h.cookie = newBrowserCookie(endpoint.EscapedPath(), endpoint.Scheme == "https", h.interactionLifetime)
	h.frameAncestors = "'none'"
	if len(cfg.FrameAncestors) > 0 {
		h.frameAncestors = strings.Join(cfg.FrameAncestors, " ")
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodySize
	}
	if h.errorPage == nil {
		h.errorPage = writeErrorPage
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	if h.audit == nil {
		h.audit = SlogAudit(cfg.Logger)
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// Capabilities returns the SMART capabilities the endpoint implements,
// for DiscoveryConfig.ExtraCapabilities: launch-ehr, launch-standalone,
// authorize-post, context-ehr-patient, context-ehr-encounter,
// context-banner and context-style (an EHR launch brings whatever context
// the EHR registered), and context-standalone-patient with a
// PatientPicker. A host whose PatientPicker also picks encounters adds
// context-standalone-encounter; one that signs ID tokens (the openid
// scope) with an OpenID configuration document (NewOpenIDConfigurationHandler)
// adds sso-openid-connect.
func (h *AuthorizationHandler) Capabilities() []string {
	caps := []string{
		CapabilityLaunchEHR, CapabilityLaunchStandalone, CapabilityAuthorizePost,
		CapabilityContextEHRPatient, CapabilityContextEHREncounter,
		CapabilityContextBanner, CapabilityContextStyle,
	}
	if h.patients != nil {
		caps = append(caps, CapabilityContextStandalonePatient)
	}
	return caps
}

// The launch capabilities of SMART App Launch 2.2 ("Capabilities") that
// the authorization endpoint implements.
const (
	CapabilityAuthorizePost              = "authorize-post"
	CapabilityContextEHRPatient          = "context-ehr-patient"
	CapabilityContextEHREncounter        = "context-ehr-encounter"
	CapabilityContextStandalonePatient   = "context-standalone-patient"
	CapabilityContextStandaloneEncounter = "context-standalone-encounter"
	CapabilityContextBanner              = "context-banner"
	CapabilityContextStyle               = "context-style"
)

// ServeHTTP answers an authorization request (GET, or POST with a form
// body), or the post of a step's page.
func (h *AuthorizationHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Pragma", "no-cache")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "frame-ancestors "+h.frameAncestors)
	if h.frameAncestors == "'none'" {
		hdr.Set("X-Frame-Options", "DENY")
	}
	switch r.Method {
	case http.MethodGet:
		params, err := parseForm(r.URL.RawQuery)
		if err != nil {
			h.show(w, r, malformedParams(err))
			return
		}
		h.start(w, r, params)
	case http.MethodPost:
		h.servePost(w, r)
	default:
		hdr.Set("Allow", "GET, POST")
		h.show(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: CodeInvalidRequest,
			Description: "the authorization endpoint accepts only GET and POST"})
	}
}

// servePost reads a POST body: the post of a step's page if it holds the
// InteractionField, else an authorization request (authorize-post).
func (h *AuthorizationHandler) servePost(w http.ResponseWriter, r *http.Request) {
	if oerr := checkFormContentType(r.Header.Values("Content-Type")); oerr != nil {
		h.show(w, r, oerr)
		return
	}
	if r.ContentLength > h.maxBody {
		h.show(w, r, errBodyTooLarge(nil))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			h.show(w, r, errBodyTooLarge(err))
		} else {
			h.show(w, r, &Error{Code: CodeInvalidRequest, Description: "the request body could not be read", Err: err})
		}
		return
	}
	values, err := url.ParseQuery(string(body))
	if err == nil && len(values[InteractionField]) > 0 {
		h.resume(w, r, values)
		return
	}
	params, err := parseForm(string(body))
	if err != nil {
		h.show(w, r, malformedParams(err))
		return
	}
	h.start(w, r, params)
}

// malformedParams is the shown error of a query or body that is not valid
// form encoding or repeats a parameter (RFC 6749 §3.1).
func malformedParams(err error) *Error {
	desc := "the request parameters are not valid form encoding"
	if errors.Is(err, errDuplicateParameter) {
		desc = "a parameter is included more than once"
	}
	return &Error{Code: CodeInvalidRequest, Description: desc, Err: err}
}
