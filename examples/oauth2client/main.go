// Command oauth2client refreshes a SMART access token with the standard Go
// OAuth2 client (golang.org/x/oauth2) against the smartauth demo server,
// then reads the patient in context. It shows that an unmodified, widely
// used client library interoperates with the token endpoint.
//
// Start the demo server (go run ./examples/fhirserver), then:
//
//	go run ./examples/oauth2client
//
// The refresh token rotates: the configured demo token works once per start
// of an in-memory demo server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"golang.org/x/oauth2"
)

// Params say which server and grant to use.
type Params struct {
	TokenURL     string
	FHIRBaseURL  string
	ClientID     string
	ClientSecret string
	RefreshToken string
}

func main() {
	p := Params{}
	flag.StringVar(&p.TokenURL, "token-url", "http://127.0.0.1:8080/auth/token", "token endpoint")
	flag.StringVar(&p.FHIRBaseURL, "fhir-base", "http://127.0.0.1:8080/fhir", "FHIR base URL")
	flag.StringVar(&p.ClientID, "client-id", "my-app", "client_id")
	flag.StringVar(&p.ClientSecret, "client-secret", "my-app-secret-123", "client secret (client_secret_basic)")
	flag.StringVar(&p.RefreshToken, "refresh-token", defaultRefreshToken, "refresh token to start from")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, p, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "oauth2client:", err)
		os.Exit(1)
	}
}

// run refreshes through an oauth2.TokenSource and reads the patient in
// context with the resulting client.
func run(ctx context.Context, p Params, out io.Writer) error {
	conf := &oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: p.TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
	}
	// A token with only a refresh token is expired: the first use refreshes.
	src := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: p.RefreshToken})
	tok, err := src.Token()
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	patient, _ := tok.Extra("patient").(string)
	if patient == "" {
		return errors.New("the token response carries no patient in context")
	}
	fmt.Fprintf(out, "refreshed: token_type=%s expires=%s scope=%q patient=%s\n",
		tok.TokenType, tok.Expiry.Format(time.RFC3339), tok.Extra("scope"), patient)

	client := oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.FHIRBaseURL+"/Patient/"+patient, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("read patient: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read patient: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("read patient: %s", resp.Status)
	}
	fmt.Fprintf(out, "GET Patient/%s: %s\n%s\n", patient, resp.Status, body)
	return nil
}

// defaultRefreshToken is the first grant's refresh token in
// testdata/demo-config.json (the SMART launcher seed's value).
const defaultRefreshToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJjb250ZXh0Ijp7Im5lZWRfcGF0aWVudF9iYW5uZXIiOnRydWUsInNtYXJ0X3N0eWxlX3VybCI6Imh0dHBzOi8vbGF1bmNoLnNtYXJ0aGVhbHRoaXQub3JnL3NtYXJ0LXN0eWxlLmpzb24iLCJwYXRpZW50IjoiNzgzYTFmMDItNWJmOS00MWM5LTkwZDAtYzJjNGQzNWQzZWMzIiwiZW5jb3VudGVyIjoiNDFlMjdiYmYtZTVjMi00MjYxLTlmNjctY2E0Njc2MjczOTU5In0sImNsaWVudF9pZCI6Im15X3dlYl9hcHAiLCJzY29wZSI6Im9wZW5pZCBwcm9maWxlIG9mZmxpbmVfYWNjZXNzIG9ubGluZV9hY2Nlc3MgdXNlci8qLiogcGF0aWVudC8qLiogbGF1bmNoL2VuY291bnRlciBsYXVuY2gvcGF0aWVudCIsInVzZXIiOiJQcmFjdGl0aW9uZXIvU01BUlQtMTIzNCIsImlhdCI6MTUyOTY3NDQ4NywiZXhwIjoxNTI5Njc0Nzg3fQ.lMdNPEWLHNQ9SK2V6CiPhjFdFUFfWxWUaevGkbmhb-Q"
