// Package smartapp is a small SMART on FHIR browser app: static HTML and
// plain JavaScript, embedded, with no library and no CDN. It is a public
// client that does the standalone launch (or the EHR launch it is sent,
// with iss and launch) with PKCE S256 computed by WebCrypto, shows the
// patient in context and their observations, and refreshes its access
// token. The smartauth demo serves it on an origin of its own, so that
// its calls to the token endpoint and the FHIR routes are cross-origin,
// as a real app's are.
//
// Usage sketch:
//
//	app, _ := smartapp.Handler(smartapp.Config{
//		ClientID:    "sample-app",
//		RedirectURI: "http://127.0.0.1:8081/",
//		FHIRBaseURL: "http://127.0.0.1:8080/fhir",
//	})
//	go http.ListenAndServe("127.0.0.1:8081", app)
//
// Its page is index.html at the root; the app reads its configuration
// from config.json, and its redirect URI is the root URL, which serves
// the same page. WebCrypto needs a secure context: https, or http on
// localhost / 127.0.0.1.
package smartapp
