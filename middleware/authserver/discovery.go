package authserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DiscoveryPath is where SMART clients look for the discovery document,
// relative to the FHIR base URL (SMART App Launch, "Conformance").
const DiscoveryPath = "/.well-known/smart-configuration"

// DefaultDiscoveryMaxAge is how long clients and caches may keep the
// discovery document when DiscoveryConfig.MaxAge is zero.
const DefaultDiscoveryMaxAge = 5 * time.Minute

// ErrInvalidDiscovery is wrapped by the errors of NewDiscoveryHandler: a
// missing or non-absolute endpoint URL, an inconsistent capability list, an
// Extra member that shadows a standard one, and so on.
var ErrInvalidDiscovery = errors.New("authserver: invalid discovery configuration")

// SMART capabilities (SMART App Launch, "Capabilities") that the discovery
// defaults refer to. Any other capability may be listed as a string.
const (
	CapabilityClientPublic                 = "client-public"
	CapabilityClientConfidentialSymmetric  = "client-confidential-symmetric"
	CapabilityClientConfidentialAsymmetric = "client-confidential-asymmetric"
	CapabilityLaunchEHR                    = "launch-ehr"
	CapabilityLaunchStandalone             = "launch-standalone"
	CapabilitySSOOpenIDConnect             = "sso-openid-connect"
	CapabilityPermissionOffline            = "permission-offline"
	CapabilityPermissionOnline             = "permission-online"
	CapabilityPermissionPatient            = "permission-patient"
	CapabilityPermissionUser               = "permission-user"
	CapabilityPermissionV1                 = "permission-v1"
	CapabilityPermissionV2                 = "permission-v2"
)

// DiscoveryConfig configures NewDiscoveryHandler: the SMART discovery
// document (.well-known/smart-configuration) of a FHIR server. Only
// TokenEndpoint is required; every other zero value is documented.
//
// Every URL must be absolute, with scheme https, or http for a loopback
// host only (localhost, 127.0.0.0/8, ::1) so that local development works;
// user info and fragments are refused.
type DiscoveryConfig struct {
	// Issuer is the issuer identifier (iss of the tokens). SMART requires
	// it with the sso-openid-connect capability; it may be given without.
	// It must not have a query. Zero value: omitted.
	Issuer string
	// JWKSURI is the URL of the JWK Set of the token signing keys
	// (required with sso-openid-connect). Zero value: omitted.
	JWKSURI string
	// AuthorizationEndpoint is the OAuth authorization endpoint, served
	// by whatever performs the SMART launch (required with launch-ehr or
	// launch-standalone, or the authorization_code grant). Zero value:
	// omitted — a server that only refreshes tokens has none.
	AuthorizationEndpoint string
	// TokenEndpoint is the token endpoint. Required.
	TokenEndpoint string
	// RegistrationEndpoint, ManagementEndpoint, IntrospectionEndpoint and
	// RevocationEndpoint are the optional endpoints of the same names.
	// Zero values: omitted.
	RegistrationEndpoint  string
	ManagementEndpoint    string
	IntrospectionEndpoint string
	RevocationEndpoint    string

	// Tokens, if set, is the token endpoint's handler: the grant types it
	// serves (TokenHandler.GrantTypes) are the default of
	// GrantTypesSupported, and an explicit GrantTypesSupported may list
	// only those; its ClientAuthenticator, if it is one, is the default of
	// Clients. Zero value: nil.
	Tokens *TokenHandler
	// GrantTypesSupported lists the grant types of the token endpoint.
	// Zero value: Tokens.GrantTypes() if Tokens is set; else
	// ["authorization_code", "refresh_token"] with an
	// AuthorizationEndpoint, ["refresh_token"] without. Listing
	// client_credentials (SMART Backend Services) requires private_key_jwt
	// among the TokenEndpointAuthMethodsSupported and the
	// client-confidential-asymmetric capability (a default when
	// private_key_jwt is supported).
	GrantTypesSupported []string
	// ResponseTypesSupported lists the response types of the
	// authorization endpoint. Zero value: ["code"] with an
	// AuthorizationEndpoint, omitted without.
	ResponseTypesSupported []string
	// TokenEndpointAuthMethodsSupported lists the client authentication
	// methods. Zero value: client_secret_basic, client_secret_post,
	// private_key_jwt and none — all those ClientAuthenticator supports.
	TokenEndpointAuthMethodsSupported []AuthMethod
	// TokenEndpointAuthSigningAlgValuesSupported lists the JWS algorithms
	// accepted for private_key_jwt client assertions. Zero value, if
	// private_key_jwt is supported: the AssertionAlgorithms of Clients if
	// set, else RS384 and ES384 (the two SMART requires); omitted if
	// private_key_jwt is not supported.
	TokenEndpointAuthSigningAlgValuesSupported []string
	// Clients, if set, is the ClientAuthenticator of the token endpoint;
	// the default signing algorithms are read from it. Zero value: the
	// ClientAuthenticator of Tokens, if any, else nil.
	Clients *ClientAuthenticator
	// ScopesSupported lists scopes clients may request (SMART
	// recommends it). With client_credentials, list the system/ scopes
	// backend clients may be registered for (for example system/*.rs; the
	// SMART example of client-confidential-asymmetric lists only that).
	// Zero value: omitted.
	ScopesSupported []string

	// Capabilities replaces the default capability list. Zero value:
	// defaultCapabilities of the authentication methods.
	Capabilities []string
	// ExtraCapabilities are added to Capabilities (or to the defaults):
	// the launch-*, context-*, sso-openid-connect ... capabilities of the
	// component that performs the launch.
	ExtraCapabilities []string

	// Extra holds further members of the document (associated_endpoints,
	// user_access_brand_bundle, ...), encoded with encoding/json. It may
	// not redefine a member this configuration sets. Zero value: none.
	Extra map[string]any

	// MaxAge is how long clients and shared caches may keep the document
	// (Cache-Control: public, max-age). Zero value:
	// DefaultDiscoveryMaxAge; negative: Cache-Control: no-cache.
	MaxAge time.Duration
}

// discoveryDocument is the JSON form of the discovery document, in the
// member order of the SMART example.
type discoveryDocument struct {
	Issuer                                     string   `json:"issuer,omitempty"`
	JWKSURI                                    string   `json:"jwks_uri,omitempty"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	ManagementEndpoint                         string   `json:"management_endpoint,omitempty"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	Capabilities                               []string `json:"capabilities"`
}

// standardDiscoveryMembers are the members Extra may not redefine.
var standardDiscoveryMembers = []string{
	"issuer", "jwks_uri", "authorization_endpoint", "grant_types_supported", "token_endpoint",
	"token_endpoint_auth_methods_supported", "token_endpoint_auth_signing_alg_values_supported",
	"registration_endpoint", "scopes_supported", "response_types_supported", "management_endpoint",
	"introspection_endpoint", "revocation_endpoint", "code_challenge_methods_supported", "capabilities",
}

// defaultCapabilities returns the capabilities a server built with this
// package has whatever performs the launch: the client types of methods
// (client-public for none, client-confidential-symmetric for the client
// secret methods, client-confidential-asymmetric for private_key_jwt), and
// permission-offline, permission-online, permission-patient,
// permission-user, permission-v1 and permission-v2 (refresh tokens of both
// kinds; access tokens carry whatever SMART v1 or v2 scopes were granted).
func defaultCapabilities(methods []AuthMethod) []string {
	var caps []string
	if slices.Contains(methods, AuthNone) {
		caps = append(caps, CapabilityClientPublic)
	}
	if slices.Contains(methods, AuthClientSecretBasic) || slices.Contains(methods, AuthClientSecretPost) {
		caps = append(caps, CapabilityClientConfidentialSymmetric)
	}
	if slices.Contains(methods, AuthPrivateKeyJWT) {
		caps = append(caps, CapabilityClientConfidentialAsymmetric)
	}
	return append(caps,
		CapabilityPermissionOffline, CapabilityPermissionOnline,
		CapabilityPermissionPatient, CapabilityPermissionUser,
		CapabilityPermissionV1, CapabilityPermissionV2)
}

// discoveryHandler serves a discovery document encoded once.
type discoveryHandler struct {
	body          []byte
	contentLength string
	cacheControl  string
}

// NewDiscoveryHandler returns the handler of the SMART discovery document
// described by cfg; mount it at the FHIR base URL + DiscoveryPath.
//
// The document always has code_challenge_methods_supported ["S256"]: SMART
// forbids "plain" and nothing can add it. The handler answers GET and HEAD
// with the document (Content-Type: application/json, whatever the Accept
// header), OPTIONS with 204 (a CORS preflight included), and any other
// method with 405. Every response allows any origin
// (Access-Control-Allow-Origin: *) without credentials: the document is
// public, and browser apps read it before they hold any token.
func NewDiscoveryHandler(cfg DiscoveryConfig) (http.Handler, error) {
	doc, err := buildDiscoveryDocument(cfg)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("authserver: encoding discovery document: %w", err)
	}
	if body, err = appendExtraMembers(body, cfg.Extra); err != nil {
		return nil, err
	}
	cacheControl := "no-cache"
	if cfg.MaxAge >= 0 {
		maxAge := cfg.MaxAge
		if maxAge == 0 {
			maxAge = DefaultDiscoveryMaxAge
		}
		cacheControl = "public, max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	}
	return &discoveryHandler{body: body, contentLength: strconv.Itoa(len(body)), cacheControl: cacheControl}, nil
}

// buildDiscoveryDocument validates cfg and applies its defaults.
func buildDiscoveryDocument(cfg DiscoveryConfig) (*discoveryDocument, error) {
	if cfg.TokenEndpoint == "" {
		return nil, fmt.Errorf("%w: TokenEndpoint is required", ErrInvalidDiscovery)
	}
	urls := []struct {
		name, value string
		noQuery     bool
	}{
		{"Issuer", cfg.Issuer, true},
		{"JWKSURI", cfg.JWKSURI, false},
		{"AuthorizationEndpoint", cfg.AuthorizationEndpoint, false},
		{"TokenEndpoint", cfg.TokenEndpoint, false},
		{"RegistrationEndpoint", cfg.RegistrationEndpoint, false},
		{"ManagementEndpoint", cfg.ManagementEndpoint, false},
		{"IntrospectionEndpoint", cfg.IntrospectionEndpoint, false},
		{"RevocationEndpoint", cfg.RevocationEndpoint, false},
	}
	for _, u := range urls {
		if u.value == "" {
			continue
		}
		if err := checkEndpointURL(u.value, u.noQuery); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidDiscovery, u.name, err)
		}
	}
	hasAuthz := cfg.AuthorizationEndpoint != ""

	methods := cfg.TokenEndpointAuthMethodsSupported
	if len(methods) == 0 {
		methods = []AuthMethod{AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT, AuthNone}
	}
	methodNames := make([]string, 0, len(methods))
	for _, m := range methods {
		switch m {
		case AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT, AuthNone:
		default:
			return nil, fmt.Errorf("%w: unsupported authentication method %q", ErrInvalidDiscovery, m)
		}
		methodNames = append(methodNames, string(m))
	}

	clients := cfg.Clients
	if clients == nil && cfg.Tokens != nil {
		clients, _ = cfg.Tokens.clients.(*ClientAuthenticator)
	}
	algs := cfg.TokenEndpointAuthSigningAlgValuesSupported
	if len(algs) == 0 && slices.Contains(methods, AuthPrivateKeyJWT) {
		algs = []string{"RS384", "ES384"}
		if clients != nil {
			algs = clients.AssertionAlgorithms()
		}
	}
	for _, alg := range algs {
		if alg == "" || strings.EqualFold(alg, "none") || strings.HasPrefix(alg, "HS") {
			return nil, fmt.Errorf("%w: client assertions cannot use algorithm %q", ErrInvalidDiscovery, alg)
		}
	}

	grants := cfg.GrantTypesSupported
	switch {
	case len(grants) == 0 && cfg.Tokens != nil:
		grants = cfg.Tokens.GrantTypes()
	case len(grants) == 0 && hasAuthz:
		grants = []string{"authorization_code", GrantTypeRefreshToken}
	case len(grants) == 0:
		grants = []string{GrantTypeRefreshToken}
	}
	if cfg.Tokens != nil {
		served := cfg.Tokens.GrantTypes()
		for _, g := range grants {
			if !slices.Contains(served, g) {
				return nil, fmt.Errorf("%w: the token handler does not serve grant type %q", ErrInvalidDiscovery, g)
			}
		}
	}
	if slices.Contains(grants, "authorization_code") && !hasAuthz {
		return nil, fmt.Errorf("%w: the authorization_code grant needs an AuthorizationEndpoint", ErrInvalidDiscovery)
	}
	if slices.Contains(grants, GrantTypeClientCredentials) && !slices.Contains(methods, AuthPrivateKeyJWT) {
		return nil, fmt.Errorf("%w: the client_credentials grant needs the private_key_jwt authentication method", ErrInvalidDiscovery)
	}

	responseTypes := cfg.ResponseTypesSupported
	switch {
	case len(responseTypes) == 0 && hasAuthz:
		responseTypes = []string{"code"}
	case len(responseTypes) > 0 && !hasAuthz:
		return nil, fmt.Errorf("%w: ResponseTypesSupported needs an AuthorizationEndpoint", ErrInvalidDiscovery)
	}

	caps := cfg.Capabilities
	if len(caps) == 0 {
		caps = defaultCapabilities(methods)
	}
	caps = dedupe(append(slices.Clone(caps), cfg.ExtraCapabilities...))
	switch {
	case (slices.Contains(caps, CapabilityLaunchEHR) || slices.Contains(caps, CapabilityLaunchStandalone)) && !hasAuthz:
		return nil, fmt.Errorf("%w: launch capabilities need an AuthorizationEndpoint", ErrInvalidDiscovery)
	case slices.Contains(caps, CapabilitySSOOpenIDConnect) && (cfg.Issuer == "" || cfg.JWKSURI == ""):
		return nil, fmt.Errorf("%w: sso-openid-connect needs an Issuer and a JWKSURI", ErrInvalidDiscovery)
	case slices.Contains(grants, GrantTypeClientCredentials) && !slices.Contains(caps, CapabilityClientConfidentialAsymmetric):
		return nil, fmt.Errorf("%w: the client_credentials grant needs the client-confidential-asymmetric capability", ErrInvalidDiscovery)
	}

	for list, values := range map[string][]string{
		"GrantTypesSupported": grants, "ResponseTypesSupported": responseTypes,
		"ScopesSupported": cfg.ScopesSupported, "Capabilities": caps,
	} {
		for _, v := range values {
			if v == "" || strings.ContainsFunc(v, isSpaceOrControl) {
				return nil, fmt.Errorf("%w: %s: empty value or white space in a value", ErrInvalidDiscovery, list)
			}
		}
	}

	return &discoveryDocument{
		Issuer:                            cfg.Issuer,
		JWKSURI:                           cfg.JWKSURI,
		AuthorizationEndpoint:             cfg.AuthorizationEndpoint,
		GrantTypesSupported:               dedupe(grants),
		TokenEndpoint:                     cfg.TokenEndpoint,
		TokenEndpointAuthMethodsSupported: dedupe(methodNames),
		TokenEndpointAuthSigningAlgValuesSupported: dedupe(algs),
		RegistrationEndpoint:                       cfg.RegistrationEndpoint,
		ScopesSupported:                            dedupe(cfg.ScopesSupported),
		ResponseTypesSupported:                     dedupe(responseTypes),
		ManagementEndpoint:                         cfg.ManagementEndpoint,
		IntrospectionEndpoint:                      cfg.IntrospectionEndpoint,
		RevocationEndpoint:                         cfg.RevocationEndpoint,
		CodeChallengeMethodsSupported:              []string{"S256"},
		Capabilities:                               caps,
	}, nil
}

// checkEndpointURL requires an absolute https URL (http for a loopback
// host), without user info or fragment, and without query if noQuery.
func checkEndpointURL(raw string, noQuery bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Host == "" || u.Opaque != "":
		return errors.New("not an absolute URL")
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		return errors.New("http is allowed only for localhost")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("the scheme must be https")
	case u.User != nil:
		return errors.New("user info is not allowed")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("a fragment is not allowed")
	case noQuery && (u.RawQuery != "" || u.ForceQuery):
		return errors.New("a query is not allowed")
	}
	return nil
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// dedupe returns values without repetitions, in first-seen order.
func dedupe(values []string) []string {
	if len(values) == 0 {
		return nil
	}
	out := make([]string, 0, len(values))
	for _, v := range values {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// appendExtraMembers adds the members of extra, in sorted order, to the
// encoded JSON object doc.
func appendExtraMembers(doc []byte, extra map[string]any) ([]byte, error) {
	if len(extra) == 0 {
		return doc, nil
	}
	names := make([]string, 0, len(extra))
	for name := range extra {
		if name == "" || slices.Contains(standardDiscoveryMembers, name) {
			return nil, fmt.Errorf("%w: Extra may not set member %q", ErrInvalidDiscovery, name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var b bytes.Buffer
	b.Write(doc[:len(doc)-1]) // without the closing brace
	for _, name := range names {
		k, err := json.Marshal(name)
		if err != nil {
			return nil, fmt.Errorf("%w: Extra member %q: %w", ErrInvalidDiscovery, name, err)
		}
		v, err := json.Marshal(extra[name])
		if err != nil {
			return nil, fmt.Errorf("%w: Extra member %q: %w", ErrInvalidDiscovery, name, err)
		}
		b.WriteByte(',')
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// discoveryAllowedMethods is the Allow header and the preflight answer.
const discoveryAllowedMethods = "GET, HEAD, OPTIONS"

// ServeHTTP answers GET and HEAD with the document, OPTIONS with 204 and
// other methods with 405.
func (h *discoveryHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		hdr.Set("Content-Type", "application/json")
		hdr.Set("Content-Length", h.contentLength)
		hdr.Set("Cache-Control", h.cacheControl)
		hdr.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(h.body)
		}
	case http.MethodOptions:
		hdr.Set("Allow", discoveryAllowedMethods)
		if r.Header.Get("Access-Control-Request-Method") != "" {
			hdr.Set("Access-Control-Allow-Methods", discoveryAllowedMethods)
			// "*" allows any header of a request without credentials;
			// Authorization must be named (some FHIR clients send it
			// with every request to the FHIR base).
			hdr.Set("Access-Control-Allow-Headers", "Authorization, *")
			hdr.Set("Access-Control-Max-Age", "86400")
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		hdr.Set("Allow", discoveryAllowedMethods)
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}
