package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

// Options configure New.
type Options struct {
	// BaseURL is the public base URL of the server, e.g.
	// "http://localhost:8080". Required. The FHIR base is BaseURL + "/fhir".
	BaseURL string
	// Config is the parsed configuration. Zero value: DefaultConfig().
	Config *Config
	// Data holds the FHIR resources served, one *.json file each at its
	// root (os.DirFS of a directory). Zero value: DefaultData().
	Data fs.FS
	// Store is the token store. Zero value: a new in-memory store.
	Store tokenstore.Store
	// SigningKeysFile is a key set file shared by the instances
	// (authserver.LoadKeySetFile: a JWK Set with private keys, or PEM
	// blocks with a kid), re-read every 10 s until the context of New ends
	// (authserver.KeySet.WatchFile). Zero value: a key generated at start
	// (Config.SigningAlgorithm).
	SigningKeysFile string
	// Logger receives structured logs (never tokens). Zero value:
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
	// AppURL is the origin the sample SMART app is served at (by the
	// caller, with Server.AppHandler), e.g. "http://127.0.0.1:8081": its
	// client is registered and its origin allowed by CORS. Zero value: no
	// sample app.
	AppURL string
}

// Server is the demo FHIR server: FHIR routes protected by the smartauth
// middleware, plus the token, JWKS, discovery, introspection and revocation
// endpoints.
type Server struct {
	// Handler serves every route.
	Handler http.Handler
	// Tokens is the token endpoint (for creating grants in tests).
	Tokens *authserver.TokenHandler
	// Store is the token store in use.
	Store tokenstore.Store
	// Keys are the signing keys.
	Keys *authserver.KeySet
	// DemoGrant is the grant minted at this start, nil if the
	// configuration has no grants.
	DemoGrant *DemoGrant

	// The public URLs of the endpoints.
	FHIRBaseURL, TokenURL, JWKSURL, DiscoveryURL, IntrospectionURL, RevocationURL string

	// The SMART sandbox (see sandbox.go): the authorization endpoint, the
	// launch page and the sample app (AppURL, served by AppHandler), if
	// the store keeps codes.
	Authorization                 *authserver.AuthorizationHandler
	AuthorizationURL, LauncherURL string
	AppURL                        string
	AppHandler                    http.Handler
}

// The routes, relative to BaseURL.
const (
	fhirPath          = "/fhir"
	tokenPath         = "/auth/token"
	introspectionPath = "/auth/introspect"
	revocationPath    = "/auth/revoke"
	jwksPath          = "/auth/jwks"
	discoveryPath     = fhirPath + "/.well-known/smart-configuration"
)

// revocationCheckInterval is how long the FHIR routes trust that an access
// token's grant is not revoked before asking the store again.
const revocationCheckInterval = 30 * time.Second

// DemoGrant is a grant New mints at every start, for the client of the
// first configured grant with its scope and launch context, and a new
// random refresh token. Unlike the configured grants, whose fixed refresh
// tokens a shared store (Redis, PostgreSQL) keeps from one start to the
// next, already used, its token works whatever the store holds.
type DemoGrant struct {
	ClientID     string
	RefreshToken string // the first refresh token: a demo credential
	GrantID      string
	Patient      string // the patient in context, if any
}

// New builds the demo server, creates the configured grants in its store
// (leaving those already there) and mints a fresh DemoGrant.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.BaseURL == "" {
		return nil, errors.New("demo: BaseURL is required")
	}
	base := strings.TrimRight(o.BaseURL, "/")
	cfg := o.Config
	if cfg == nil {
		cfg = DefaultConfig()
	}
	dataFS := o.Data
	if dataFS == nil {
		dataFS = DefaultData()
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	store := o.Store
	if store == nil {
		store = tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
	}
	s := &Server{
		Store:            store,
		FHIRBaseURL:      base + fhirPath,
		TokenURL:         base + tokenPath,
		JWKSURL:          base + jwksPath,
		DiscoveryURL:     base + discoveryPath,
		IntrospectionURL: base + introspectionPath,
		RevocationURL:    base + revocationPath,
	}
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = base
	}

	data, err := loadResources(dataFS)
	if err != nil {
		return nil, err
	}
	clients, err := buildClients(withSampleApp(cfg.Clients, o.AppURL))
	if err != nil {
		return nil, err
	}
	auth, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients: clients, TokenEndpoint: s.TokenURL, Replay: store, Now: now,
	})
	if err != nil {
		return nil, err
	}
	keys, err := signingKeys(ctx, o.SigningKeysFile, cfg.SigningAlgorithm, now, logger)
	if err != nil {
		return nil, err
	}
	s.Keys = keys
	cors := authserver.CORS{AllowedOrigins: corsOrigins(cfg.CORSOrigins, o.AppURL)}
	tokens, err := authserver.NewTokenHandler(authserver.TokenConfig{
		Issuer:              issuer,
		Audience:            s.FHIRBaseURL,
		Store:               store,
		Clients:             auth,
		Keys:                keys,
		AccessTokenLifetime: time.Duration(cfg.AccessTokenLifetime),
		OfflineLifetime:     authserver.Lifetime{Idle: time.Duration(cfg.Offline.Idle), Absolute: time.Duration(cfg.Offline.Absolute)},
		OnlineLifetime:      authserver.Lifetime{Idle: time.Duration(cfg.Online.Idle), Absolute: time.Duration(cfg.Online.Absolute)},
		RetryWindow:         retryWindow(cfg.RetryWindow),
		CORS:                cors,
		Grants:              codeGrants(store),
		Logger:              logger,
		Now:                 now,
	})
	if err != nil {
		return nil, err
	}
	s.Tokens = tokens
	if err := createGrants(ctx, tokens, cfg.Grants, logger); err != nil {
		return nil, err
	}
	if s.DemoGrant, err = mintDemoGrant(ctx, tokens, cfg.Grants); err != nil {
		return nil, err
	}

	// Verifier of the FHIR routes: our own tokens, and those of the trusted
	// issuers, each issuer with its own keys.
	ours, err := keys.AccessTokenVerifier(middleware.JWTConfig{
		Issuers:  []string{issuer},
		Audience: s.FHIRBaseURL,
		Now:      now,
	})
	if err != nil {
		return nil, err
	}
	verifier, err := newIssuerVerifier(ctx, ours, issuer, cfg.TrustedIssuers, s.FHIRBaseURL, now)
	if err != nil {
		return nil, err
	}
	authn := middleware.Authenticate(verifier,
		middleware.WithRevocationCheck(store, revocationCheckInterval),
		middleware.WithRevocationClock(now),
		middleware.WithLogger(logger), // refusals, at Debug, without the token
	)
	authnOptional := middleware.Authenticate(verifier, middleware.WithOptionalCredentials(), middleware.WithLogger(logger))
	// Browser apps of the configured origins may call the FHIR routes.
	// CORS goes outside Authenticate, so that it answers preflights (which
	// carry no token) and refusals carry the CORS headers too.
	withCORS := fhirCORS(cors.AllowedOrigins) // the configured origins and the sample app's

	fh := fhirHandler{data: data}
	fhirMux := http.NewServeMux()
	fhirMux.HandleFunc("GET "+fhirPath+"/{type}/{id}", fh.read)
	fhirMux.HandleFunc("GET "+fhirPath+"/{type}", fh.search)
	fhirMux.HandleFunc(fhirPath+"/", func(w http.ResponseWriter, _ *http.Request) {
		writeOutcome(w, http.StatusMethodNotAllowed, "not-supported", "The demo server is read-only")
	})
	protected := authn(middleware.RequireFHIRScopes(
		middleware.WithBasePath(fhirPath),
		middleware.WithBaseURL(s.FHIRBaseURL),
		middleware.WithSearchesFilteredByHandler(), // fhirHandler.search keeps what Access permits
		middleware.WithAuditLogger(logger),
	)(fhirMux))

	mux := http.NewServeMux()
	mux.Handle(fhirPath+"/", withCORS(protected))
	mux.Handle("GET "+fhirPath+"/metadata", withCORS(authnOptional(capabilityStatement(s))))
	mux.Handle(tokenPath, tokens)
	mux.Handle(jwksPath, keys.JWKSHandler())
	caps, err := s.mountSandbox(mux, sandboxDeps{
		issuer: issuer, appURL: o.AppURL, store: store, clients: clients, keys: keys, data: data, logger: logger, now: now,
	})
	if err != nil {
		return nil, err
	}
	if err := s.mountOAuthEndpoints(mux, oauthDeps{
		issuer: issuer, cfg: cfg, store: store, clients: auth, keys: keys, verifier: ours, cors: cors, logger: logger, now: now,
		capabilities: caps,
	}); err != nil {
		return nil, err
	}
	s.Handler = mux
	return s, nil
}

// buildClients turns the configured clients into a ClientStore.
func buildClients(cs []ClientConfig) (*authserver.StaticClients, error) {
	out := make([]authserver.Client, 0, len(cs))
	for _, c := range cs {
		hash := c.ClientSecretHash
		if hash == "" && c.ClientSecret != "" {
			hash = authserver.HashSecret(c.ClientSecret)
		}
		out = append(out, authserver.Client{
			ID:           c.ClientID,
			AuthMethod:   authserver.AuthMethod(c.AuthMethod),
			SecretHash:   hash,
			JWKS:         c.JWKS,
			JWKSURL:      c.JWKSURL,
			RedirectURIs: c.RedirectURIs,
		})
	}
	return authserver.NewStaticClients(out...)
}

// createGrants creates the configured grants. A grant whose refresh token is
// already in the (shared) store is left as it is, so that several demo
// instances can start against one Redis or PostgreSQL store.
func createGrants(ctx context.Context, tokens *authserver.TokenHandler, gs []GrantConfig, logger *slog.Logger) error {
	for i, g := range gs {
		ng, err := newGrant(g)
		if err != nil {
			return fmt.Errorf("demo: grant %d: %w", i, err)
		}
		_, id, err := tokens.CreateGrant(ctx, ng)
		switch {
		case errors.Is(err, tokenstore.ErrConflict):
			logger.Info("demo grant already in store", "index", i, "client_id", g.ClientID)
		case err != nil:
			return fmt.Errorf("demo: grant %d: %w", i, err)
		default:
			logger.Info("demo grant created", "index", i, "client_id", g.ClientID, "grant_id", id)
		}
	}
	return nil
}

// mintDemoGrant creates a grant like gs[0] but with a new random refresh
// token, or returns nil if gs is empty.
func mintDemoGrant(ctx context.Context, tokens *authserver.TokenHandler, gs []GrantConfig) (*DemoGrant, error) {
	if len(gs) == 0 {
		return nil, nil
	}
	ng, err := newGrant(gs[0])
	if err != nil {
		return nil, fmt.Errorf("demo: grant 0: %w", err)
	}
	ng.RefreshToken = "" // a new random one
	rt, id, err := tokens.CreateGrant(ctx, ng)
	if err != nil {
		return nil, fmt.Errorf("demo: minting the demo grant: %w", err)
	}
	return &DemoGrant{ClientID: ng.ClientID, RefreshToken: rt, GrantID: id, Patient: ng.Launch.Patient}, nil
}

// newGrant is the authserver.NewGrant of a configured grant.
func newGrant(g GrantConfig) (authserver.NewGrant, error) {
	var launch authserver.Launch
	if len(g.Launch) > 0 {
		if err := json.Unmarshal(g.Launch, &launch); err != nil {
			return authserver.NewGrant{}, fmt.Errorf("launch: %w", err)
		}
	}
	return authserver.NewGrant{
		ClientID: g.ClientID, Subject: g.Subject, FHIRUser: g.FHIRUser,
		Scope: g.Scope, Launch: launch, RefreshToken: g.RefreshToken,
	}, nil
}

// issuerVerifier dispatches a token to the verifier of its issuer, so that
// a key of one issuer can never verify a token claiming another.
type issuerVerifier struct {
	byIssuer map[string]middleware.TokenVerifier
}

func newIssuerVerifier(ctx context.Context, ours middleware.TokenVerifier, issuer string, trusted []TrustedIssuer, aud string, now func() time.Time) (middleware.TokenVerifier, error) {
	if len(trusted) == 0 {
		return ours, nil
	}
	iv := issuerVerifier{byIssuer: map[string]middleware.TokenVerifier{issuer: ours}}
	for _, t := range trusted {
		v, err := middleware.NewJWTVerifier(ctx, middleware.JWTConfig{
			JWKSURLs: []string{t.JWKSURL}, Issuers: []string{t.Issuer}, Audience: aud, Now: now,
		})
		if err != nil {
			return nil, fmt.Errorf("demo: trusted issuer: %w", err)
		}
		iv.byIssuer[t.Issuer] = v
	}
	return iv, nil
}

// VerifyToken peeks at the (unverified) iss claim only to choose the
// verifier; that verifier then checks everything, iss included.
func (iv issuerVerifier) VerifyToken(ctx context.Context, token string) (*middleware.LaunchContext, error) {
	v, ok := iv.byIssuer[peekIssuer(token)]
	if !ok {
		return nil, middleware.ErrBadIssuer
	}
	return v.VerifyToken(ctx, token)
}

// retryWindow is the TokenConfig.RetryWindow of the configured retry_window:
// absent is the library default (zero), "0s" is no retry (negative).
func retryWindow(d *Duration) time.Duration {
	switch {
	case d == nil:
		return 0
	case *d == 0:
		return -1
	}
	return time.Duration(*d)
}
