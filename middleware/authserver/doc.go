// Package authserver provides the authorization-server side of smartauth:
// the OAuth 2.0 authorization endpoint with PKCE and the SMART EHR and
// standalone launches, the token endpoint with the authorization_code,
// refresh_token and client_credentials grants (RFC 6749 §4.1, §4.4, §6,
// SMART App Launch 2.2, SMART Backend Services), client authentication,
// access-token signing with keys shared by many instances and rotated
// together, the JWK Set, discovery, introspection and revocation.
//
// # Token endpoint
//
// TokenHandler accepts POST requests with form-encoded parameters (a
// repeated parameter is refused, an empty one is treated as omitted, the
// body is capped), authenticates the client for every grant, and
// dispatches on grant_type to a GrantHandler. The built-in refresh_token
// grant rotates refresh tokens through a tokenstore.Store: each refresh
// consumes the presented token and returns its successor; presenting a
// rotated token again revokes the whole family (RFC 9700 §4.14.2), unless
// it is the same client's retry within TokenConfig.RetryWindow (a lost
// answer, or a 5xx), which supersedes the earlier successor so that the
// family never forks. Every refused refresh token, whatever the reason
// (unknown, expired, revoked, reused, another client's), gets the same
// invalid_grant answer. A scope parameter narrows the new access token to
// scopes the original grant covers by meaning (scope.Set.Covers:
// patient/*.rs covers patient/Observation.rs?category=laboratory, never the
// reverse) without changing the grant.
//
// Every store call runs under a deadline (StoreTimeout, 5 s by default); a
// store that fails or does not answer in time is answered 503
// temporarily_unavailable with Retry-After, and the client's retry
// succeeds once the store is back.
//
// Client secrets are hashed once per attempt, unknown client_ids cost what
// registered ones do, and failed secret attempts are throttled per
// client_id (ClientAuthConfig.FailureLimit, answered 429). Introspection by
// client authentication is open only to the clients listed in
// IntrospectionConfig.AllowedClients (RFC 7662 §4).
//
// Access tokens are JWTs as RFC 9068 describes (typ at+jwt) carrying the
// scope, the grant ID (grant_id) and the SMART launch context (patient,
// encounter, fhirContext, ...), so that middleware.NewJWTVerifier accepts
// them with configuration only. An ID token is added when the scope holds
// openid. CreateGrant starts a family once the user has authorised a client.
//
// # Backend Services
//
// TokenConfig.ClientCredentials enables the client_credentials grant of
// SMART Backend Services: a private_key_jwt client (RS384, ES384, ...; keys
// inline or at a JWK Set URL; each assertion single use across instances)
// gets a short-lived access token (five minutes by default, no refresh
// token) for the system/ scopes it asks for that its registered
// Client.Scope covers. DiscoveryConfig.Tokens advertises the grant with the
// client-confidential-asymmetric capability and the assertion algorithms.
//
// # Signing keys for many instances
//
// LoadKeySetFile reads the signing keys from a key set file (a JWK Set with
// private keys, or PEM blocks with a kid) that every instance shares;
// WatchFile (or ReloadFile) follows its changes. Each key is "next"
// (published, not signing yet), "active" (signing) or "retired" (published
// until its retire_after), so that the active key can be rotated across
// instances with no moment where one instance's tokens fail on another: see
// KeySet.SetKeys for the procedure.
//
// # Authorization endpoint
//
// AuthorizationHandler is the authorization endpoint of SMART App Launch
// 2.2: response_type=code with PKCE S256 only, registered redirect URIs
// compared exactly (errors before the redirect URI is established are
// shown, never redirected), state required, aud checked against the FHIR
// base URL, the EHR launch (CreateLaunch registers the context and
// returns the single-use launch value) and the standalone launch
// (launch/patient asks the host's PatientPicker). The host plugs in its
// Login, PatientPicker and Consent: web steps that answer at once or show
// a page posted back to the endpoint (see Interaction). Nothing is kept
// on the server between those pages: the authorization in progress
// travels sealed (AES-GCM) in a hidden field, bound to the browser by a
// cookie. Codes live 60 s at most, are stored hashed in a
// tokenstore.CodeStore, bound to the client, the redirect URI and the
// code challenge, and name the grant they create; NewCodeGrant exchanges
// them at the token endpoint (grant_type=authorization_code), and a code
// presented twice revokes that grant. NewOpenIDConfigurationHandler
// serves the OpenID Provider metadata that sso-openid-connect requires.
//
//	authz, _ := authserver.NewAuthorizationHandler(authserver.AuthorizationConfig{
//		Endpoint: "https://auth.example.org/authorize",
//		Issuer:   "https://auth.example.org",
//		Audience: "https://fhir.example.org/r4",
//		Clients:  clients, // with RedirectURIs
//		Store:    store,   // a tokenstore.CodeStore with UseOnce
//		Login:    myLogin, Patients: myPicker, Consent: myConsent,
//		InteractionKey: key, // 32 bytes, the same on every instance
//	})
//	mux.Handle("/authorize", authz)
//	// and in TokenConfig: Grants: []authserver.GrantHandler{authserver.NewCodeGrant(store)}
//	// and in DiscoveryConfig: ExtraCapabilities: authz.Capabilities()
//
// # Usage sketch
//
//	store := tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
//	key, _ := authserver.GenerateSigningKey("ES256")
//	keys, _ := authserver.NewKeySet(key)
//	clients, _ := authserver.NewStaticClients(authserver.Client{
//		ID: "my-app", AuthMethod: authserver.AuthClientSecretBasic,
//		SecretHash: authserver.HashSecret(secret)})
//	clientAuth, _ := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
//		Clients: clients, TokenEndpoint: "https://auth.example.org/token", Replay: store})
//	token, _ := authserver.NewTokenHandler(authserver.TokenConfig{
//		Issuer:   "https://auth.example.org",
//		Audience: "https://fhir.example.org/r4",
//		Store:    store,
//		Clients:  clientAuth,
//		Keys:   keys,
//		CORS:     authserver.CORS{AllowedOrigins: []string{"https://app.example.com"}},
//	})
//	mux := http.NewServeMux()
//	mux.Handle("/token", token)
//	mux.Handle("GET /jwks.json", keys.JWKSHandler())
//
//	// The FHIR server (here in the same process) verifies the access tokens:
//	v, _ := middleware.NewJWTVerifier(ctx, middleware.JWTConfig{
//		JWKSURLs:    []string{"https://auth.example.org/jwks.json"},
//		Issuers:     []string{"https://auth.example.org"},
//		Audience:    "https://fhir.example.org/r4",
//		RequireType: "at+jwt",
//	})
//	auth := middleware.Authenticate(v, middleware.WithRevocationCheck(store, 0))
//	mux.Handle("/r4/", auth(fhirHandler))
//
//	// Rotate the signing key; the old key stays published while its
//	// tokens live.
//	next, _ := authserver.GenerateSigningKey("ES256")
//	_ = keys.Rotate(next, time.Now().Add(authserver.DefaultAccessTokenLifetime))
//
//	// Or, with several instances: every instance loads one key set file
//	// and follows it; rotate by editing the file (KeySet.SetKeys).
//	keys, _ = authserver.LoadKeySetFile("/etc/smartauth/signing-keys.json")
//	go keys.WatchFile(ctx, "/etc/smartauth/signing-keys.json", 0)
//
// Nothing in this package logs or returns in an error a token, a secret, a
// client assertion or a claim value; audit events (AuditFunc) name the
// client, the grant and the reason only.
package authserver
