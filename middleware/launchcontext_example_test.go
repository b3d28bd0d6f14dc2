package middleware_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smartauth/smartauth/middleware"
)

// A custom TokenVerifier — here golang-jwt used directly, as a vendor SDK
// would be — gets the same LaunchContext as the package's verifiers from
// NewLaunchContext. It must check the signature, issuer, audience and
// lifetime itself first.
func ExampleNewLaunchContext() {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"EdDSA"}),
		jwt.WithIssuer("https://auth.example.org"),
		jwt.WithAudience("https://fhir.example.org/r4"),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	verifier := middleware.VerifierFunc(func(ctx context.Context, token string) (*middleware.LaunchContext, error) {
		claims := jwt.MapClaims{}
		_, err := parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key.Public(), nil })
		if err != nil {
			// Authenticate answers 401 invalid_token.
			return nil, fmt.Errorf("%w: %w", middleware.ErrBadSignature, err)
		}
		// The SMART claims under this authorization server's names.
		return middleware.NewLaunchContext(claims, middleware.ClaimNames{Patient: "pid"})
	})

	token, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss":   "https://auth.example.org",
		"aud":   "https://fhir.example.org/r4",
		"exp":   now.Add(time.Hour).Unix(),
		"scope": "launch/patient patient/Observation.rs",
		"pid":   "123",
		"dept":  "cardiology",
	}).SignedString(key)

	h := middleware.Authenticate(verifier)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc, _ := middleware.LaunchContextFrom(r.Context())
		dept, _ := lc.Claim("dept")
		fmt.Println("patient:", lc.Patient)
		fmt.Println("scopes:", lc.Scopes.String())
		fmt.Println("dept:", dept)
	}))
	r := httptest.NewRequest(http.MethodGet, "/fhir/Observation?patient=123", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// patient: 123
	// scopes: launch/patient patient/Observation.rs
	// dept: cardiology
}
