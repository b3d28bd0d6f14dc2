// Package demo is the smartauth demo server behind examples/fhirserver: a
// read-only FHIR server over a small data set, protected by
// middleware.Authenticate and middleware.RequireFHIRScopes (with CORS for
// the configured browser origins), and the authserver endpoints: token
// (refresh_token), JWKS, discovery, introspection and revocation.
//
// Its configuration and data are built in (DefaultConfig, DefaultData:
// copies of the module's testdata/, kept equal by a test and go generate).
// Every start mints a fresh grant (Server.DemoGrant) whose refresh token
// PrintWelcome prints with curl commands that use it.
//
//	store, closeStore, err := demo.OpenStore(ctx, "memory", demo.StoreOptions{})
//	...
//	srv, err := demo.New(ctx, demo.Options{BaseURL: "http://127.0.0.1:8080", Store: store})
//	...
//	demo.PrintWelcome(os.Stdout, srv, demo.DefaultConfig())
//	http.ListenAndServe("127.0.0.1:8080", srv.Handler)
package demo
