package authserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// OpenIDConfigurationPath is where OpenID Connect relying parties find the
// provider's metadata, relative to the issuer identifier (OpenID Connect
// Discovery 1.0 §4).
const OpenIDConfigurationPath = "/.well-known/openid-configuration"

// OpenIDConfig configures NewOpenIDConfigurationHandler. Every field but
// ScopesSupported and MaxAge is required. URLs follow the rules of
// DiscoveryConfig.
type OpenIDConfig struct {
	// Issuer is the issuer identifier: the iss of the ID tokens. Mount
	// the handler at Issuer + OpenIDConfigurationPath.
	Issuer string
	// AuthorizationEndpoint, TokenEndpoint and JWKSURI are the endpoints
	// of the same names.
	AuthorizationEndpoint string
	TokenEndpoint         string
	JWKSURI               string
	// SigningAlgorithms are the JWS algorithms of the ID tokens, e.g.
	// KeySet.Algorithm(). OpenID Connect Discovery requires RS256 among
	// them for full interoperability.
	SigningAlgorithms []string
	// ScopesSupported lists the scopes clients may request. Zero value:
	// openid, fhirUser, profile.
	ScopesSupported []string
	// MaxAge is as DiscoveryConfig.MaxAge.
	MaxAge time.Duration
}

// openIDDocument is the OpenID Provider Metadata the token and
// authorization endpoints of this package implement.
type openIDDocument struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	RequestParameterSupported         bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	AuthorizationResponseISSSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// NewOpenIDConfigurationHandler returns the handler of the OpenID Provider
// Metadata (OpenID Connect Discovery 1.0) of an authorization server built
// with this package: the code flow with PKCE S256, the iss response
// parameter (RFC 9207), public subject identifiers, and ID tokens carrying
// sub, fhirUser, nonce and auth_time. SMART's sso-openid-connect
// capability requires it. It is served as the SMART discovery document
// is (see NewDiscoveryHandler).
func NewOpenIDConfigurationHandler(cfg OpenIDConfig) (http.Handler, error) {
	for _, u := range []struct{ name, value string }{
		{"Issuer", cfg.Issuer}, {"AuthorizationEndpoint", cfg.AuthorizationEndpoint},
		{"TokenEndpoint", cfg.TokenEndpoint}, {"JWKSURI", cfg.JWKSURI},
	} {
		if u.value == "" {
			return nil, fmt.Errorf("%w: OpenIDConfig.%s is required", ErrInvalidDiscovery, u.name)
		}
		if err := checkEndpointURL(u.value, u.name == "Issuer"); err != nil {
			return nil, fmt.Errorf("%w: OpenIDConfig.%s: %w", ErrInvalidDiscovery, u.name, err)
		}
	}
	if len(cfg.SigningAlgorithms) == 0 {
		return nil, fmt.Errorf("%w: OpenIDConfig.SigningAlgorithms is required", ErrInvalidDiscovery)
	}
	for _, alg := range cfg.SigningAlgorithms {
		if alg == "" || strings.EqualFold(alg, "none") || strings.HasPrefix(alg, "HS") {
			return nil, fmt.Errorf("%w: ID tokens cannot use algorithm %q", ErrInvalidDiscovery, alg)
		}
	}
	scopes := cfg.ScopesSupported
	if len(scopes) == 0 {
		scopes = []string{"openid", "fhirUser", "profile"}
	}
	body, err := json.Marshal(openIDDocument{
		Issuer:                            cfg.Issuer,
		AuthorizationEndpoint:             cfg.AuthorizationEndpoint,
		TokenEndpoint:                     cfg.TokenEndpoint,
		JWKSURI:                           cfg.JWKSURI,
		ScopesSupported:                   dedupe(scopes),
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               []string{GrantTypeAuthorizationCode, GrantTypeRefreshToken},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  dedupe(cfg.SigningAlgorithms),
		TokenEndpointAuthMethodsSupported: []string{string(AuthClientSecretBasic), string(AuthClientSecretPost), string(AuthPrivateKeyJWT), string(AuthNone)},
		ClaimsSupported:                   []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "fhirUser", "profile"},
		CodeChallengeMethodsSupported:     []string{CodeChallengeS256},
		AuthorizationResponseISSSupported: true,
	})
	if err != nil {
		return nil, fmt.Errorf("authserver: encoding OpenID configuration: %w", err)
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
