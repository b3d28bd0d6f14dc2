package middleware_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smartauth/smartauth/middleware"
)

func ExampleNewJWTVerifier() {
	// The context ends the JWK Set refresh goroutines.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The authorization server's signing key (for the example; a real
	// server keeps it secret and publishes the public key at its jwks_uri).
	asKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

	v, err := middleware.NewJWTVerifier(ctx, middleware.JWTConfig{
		// In production: JWKSURLs: []string{"https://auth.example.org/jwks"}.
		StaticKeys:  map[string]crypto.PublicKey{"key-1": asKey.Public()},
		Issuers:     []string{"https://auth.example.org"},
		Audience:    "https://fhir.example.org/r4",
		RequireType: "at+jwt",
		Now:         func() time.Time { return now }, // only to make the example deterministic
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// An access token as the authorization server issues it.
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss":       "https://auth.example.org",
		"aud":       "https://fhir.example.org/r4",
		"sub":       "user-42",
		"client_id": "growth-chart",
		"iat":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
		"scope":     "launch/patient patient/Observation.rs",
		"patient":   "123",
		"fhirContext": []any{
			map[string]any{"reference": "Encounter/7", "role": "https://example.org/current"},
		},
	})
	tok.Header["kid"] = "key-1"
	tok.Header["typ"] = "at+jwt"
	token, err := tok.SignedString(asKey)
	if err != nil {
		fmt.Println(err)
		return
	}

	lc, err := v.VerifyToken(ctx, token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("client:", lc.ClientID)
	fmt.Println("patient:", lc.Patient, lc.IsPatientInContext("Patient/123"))
	fmt.Println("scopes:", lc.Scopes.String())
	fmt.Println("context:", lc.FHIRContext[0].Reference)

	// The same claims for another resource server are refused.
	tok.Claims.(jwt.MapClaims)["aud"] = "https://other.example.org/fhir"
	other, _ := tok.SignedString(asKey)
	_, err = v.VerifyToken(ctx, other)
	fmt.Println(errors.Is(err, middleware.ErrBadAudience), err)
	// Output:
	// client: growth-chart
	// patient: 123 true
	// scopes: launch/patient patient/Observation.rs
	// context: Encounter/7
	// true smartauth: wrong audience: aud does not contain this server
}
