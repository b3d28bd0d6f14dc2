package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/scope"
)

// exampleVerifier accepts one token; a real server uses NewJWTVerifier or
// NewIntrospectionVerifier.
var exampleVerifier = middleware.VerifierFunc(func(_ context.Context, token string) (*middleware.LaunchContext, error) {
	if token != "good-token" {
		return nil, fmt.Errorf("%w: unknown test token", middleware.ErrBadSignature)
	}
	return &middleware.LaunchContext{Subject: "user-1", Patient: "123", Scopes: scope.Parse("patient/*.rs")}, nil
})

func ExampleAuthenticate() {
	readPatient := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc, _ := middleware.LaunchContextFrom(r.Context())
		fmt.Fprintf(w, "Patient/%s for %s (patient in context: %v)", r.PathValue("id"), lc.Subject, lc.IsPatientInContext(r.PathValue("id")))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /fhir/Patient/{id}", middleware.Authenticate(exampleVerifier)(readPatient))

	for _, authz := range []string{"", "Bearer good-token", "Bearer forged", "Bearer two tokens"} {
		r := httptest.NewRequest(http.MethodGet, "/fhir/Patient/123", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			fmt.Println(w.Code, w.Body.String())
		} else {
			fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	// Output:
	// 401 Bearer realm="smartauth"
	// 200 Patient/123 for user-1 (patient in context: true)
	// 401 Bearer realm="smartauth", error="invalid_token", error_description="The access token signature is invalid"
	// 400 Bearer realm="smartauth", error="invalid_request", error_description="The request does not carry a bearer token in a valid form"
}

func ExampleAuthenticate_refusalBody() {
	h := middleware.Authenticate(exampleVerifier)(http.NotFoundHandler())
	r := httptest.NewRequest(http.MethodGet, "/fhir/Observation", nil)
	r.Header.Set("Authorization", "Bearer forged")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"))
	fmt.Println(w.Body.String())
	// Output:
	// 401 application/fhir+json no-store
	// {"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login","diagnostics":"The access token signature is invalid"}]}
}

func ExampleWithOptionalCredentials() {
	metadata := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lc, ok := middleware.LaunchContextFrom(r.Context()); ok {
			fmt.Fprintf(w, "capabilities for %s", lc.Subject)
			return
		}
		io.WriteString(w, "public capabilities")
	})
	h := middleware.Authenticate(exampleVerifier, middleware.WithOptionalCredentials())(metadata)

	for _, authz := range []string{"", "Bearer good-token", "Bearer forged"} {
		r := httptest.NewRequest(http.MethodGet, "/fhir/metadata", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			fmt.Println(w.Code, w.Body.String())
		} else {
			fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	// Output:
	// 200 public capabilities
	// 200 capabilities for user-1
	// 401 Bearer realm="smartauth", error="invalid_token", error_description="The access token signature is invalid"
}

func ExampleNewErrorHandler() {
	// One handler, and so one realm, for every middleware of the server.
	errorHandler := middleware.NewErrorHandler("https://fhir.example.org/fhir")
	h := middleware.Authenticate(exampleVerifier, middleware.WithErrorHandler(errorHandler))(http.NotFoundHandler())

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/fhir/Patient/123", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 401 Bearer realm="https://fhir.example.org/fhir"
}

func ExampleNewAuthError() {
	for _, err := range []error{
		fmt.Errorf("%w: exp is in the past", middleware.ErrTokenExpired),
		fmt.Errorf("%w: introspection endpoint answered status 502", middleware.ErrVerifierUnavailable),
		errors.New("anything else"),
	} {
		ae := middleware.NewAuthError(err)
		fmt.Printf("%d %q %s\n", ae.Status, ae.Code, ae.Reason)
	}
	// Output:
	// 401 "invalid_token" expired
	// 503 "" verifier_unavailable
	// 401 "invalid_token" invalid_token
}

func ExampleNewIntrospectionVerifier() {
	// A stand-in for the authorization server's RFC 7662 endpoint.
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, _ := r.BasicAuth()
		if r.PostFormValue("token") != "opaque-abc" || user != "fhir-server" {
			io.WriteString(w, `{"active":false}`)
			return
		}
		io.WriteString(w, `{"active":true,"sub":"user-1","client_id":"app","scope":"patient/*.rs","patient":"123","exp":4102444800}`)
	}))
	defer as.Close()

	v, err := middleware.NewIntrospectionVerifier(middleware.IntrospectionVerifierConfig{
		Endpoint:     as.URL,
		ClientID:     "fhir-server",
		ClientSecret: "secret",
		MaxTTL:       time.Minute,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	lc, err := v.VerifyToken(context.Background(), "opaque-abc")
	fmt.Println(lc.Subject, lc.ClientID, lc.Patient, lc.Scopes, err)
	_, err = v.VerifyToken(context.Background(), "opaque-xyz")
	fmt.Println(errors.Is(err, middleware.ErrInactiveToken))
	// Output:
	// user-1 app 123 patient/*.rs <nil>
	// true
}
