package demo

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// oauthDeps is what the discovery, introspection and revocation endpoints
// share with the token endpoint.
type oauthDeps struct {
	issuer   string
	cfg      *Config
	store    tokenstore.Store
	clients  *authserver.ClientAuthenticator
	keys     *authserver.KeySet
	verifier middleware.TokenVerifier
	cors     authserver.CORS
	logger   *slog.Logger
	now      func() time.Time
	// capabilities are those of the authorization endpoint (sandbox.go);
	// none without one.
	capabilities []string
}

// mountOAuthEndpoints adds discovery, introspection and revocation to mux.
func (s *Server) mountOAuthEndpoints(mux *http.ServeMux, d oauthDeps) error {
	grants, extra := []string{"refresh_token"}, map[string]any(nil)
	if s.AuthorizationURL != "" {
		grants = []string{"authorization_code", "refresh_token"}
		extra = map[string]any{"authorization_response_iss_parameter_supported": true}
	}
	discovery, err := authserver.NewDiscoveryHandler(authserver.DiscoveryConfig{
		Issuer:                d.issuer,
		JWKSURI:               s.JWKSURL,
		AuthorizationEndpoint: s.AuthorizationURL,
		TokenEndpoint:         s.TokenURL,
		IntrospectionEndpoint: s.IntrospectionURL,
		RevocationEndpoint:    s.RevocationURL,
		GrantTypesSupported:   grants,
		Clients:               d.clients,
		ScopesSupported: []string{
			"openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter",
			"offline_access", "online_access",
			"patient/*.rs", "user/*.rs", "patient/*.read", "user/*.read",
		},
		ExtraCapabilities: d.capabilities,
		Extra:             extra,
	})
	if err != nil {
		return err
	}
	ic := authserver.IntrospectionConfig{
		Issuer:         d.issuer,
		Audience:       s.FHIRBaseURL,
		Store:          d.store,
		Keys:           d.keys,
		BearerVerifier: d.verifier,
		BearerScope:    d.cfg.IntrospectionScope,
		DisableBearer:  d.cfg.IntrospectionScope == "",
		Logger:         d.logger,
		Now:            d.now,
	}
	// Only the configured resource servers introspect with their client
	// credentials (RFC 7662 §4).
	if len(d.cfg.IntrospectionClients) > 0 {
		ic.Clients, ic.AllowedClients = d.clients, d.cfg.IntrospectionClients
	}
	introspection, err := authserver.NewIntrospectionHandler(ic)
	if err != nil {
		return err
	}
	revocation, err := authserver.NewRevocationHandler(authserver.RevocationConfig{
		Issuer:   d.issuer,
		Audience: s.FHIRBaseURL,
		Store:    d.store,
		Keys:     d.keys,
		Clients:  d.clients,
		CORS:     d.cors,
		Logger:   d.logger,
		Now:      d.now,
	})
	if err != nil {
		return err
	}
	mux.Handle(discoveryPath, discovery)
	mux.Handle(introspectionPath, introspection)
	mux.Handle(revocationPath, revocation)
	return nil
}
