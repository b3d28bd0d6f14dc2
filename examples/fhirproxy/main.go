// Command fhirproxy is a SMART gateway in front of a FHIR server that
// knows nothing about SMART: it verifies access tokens, enforces their
// scopes down to the data (patient compartments, scope constraints) and
// forwards what passes to the upstream, rewriting the upstream's base URL
// to its own in responses. See package examples/internal/fhirproxy.
//
//	go run ./examples/fhirproxy -upstream http://127.0.0.1:8091/fhir \
//		-issuer https://auth.example.org -jwks-url https://auth.example.org/jwks
//
// Flags:
//
//	-upstream  base URL of the FHIR server behind the gateway (required)
//	-addr      listen address (default 127.0.0.1:8090)
//	-base-url  public FHIR base URL of the gateway (default http://<addr>/fhir)
//	-issuer    trusted token issuer (iss); may be repeated (required)
//	-jwks-url  JWK Set URL of the issuer's keys; may be repeated (required)
//	-audience  expected token audience (default: the base URL)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/smartauth/smartauth/examples/internal/fhirproxy"
	"github.com/smartauth/smartauth/middleware"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		slog.Error("fhirproxy stopped", "error", err)
		os.Exit(1)
	}
}

// listFlag is a flag that may be repeated.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("fhirproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	upstream := fs.String("upstream", "", "base URL of the FHIR server behind the gateway (required)")
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	baseURL := fs.String("base-url", "", "public FHIR base URL of the gateway (default http://<addr>/fhir)")
	audience := fs.String("audience", "", "expected token audience (default: the base URL)")
	var issuers, jwksURLs listFlag
	fs.Var(&issuers, "issuer", "trusted token issuer (iss); may be repeated (required)")
	fs.Var(&jwksURLs, "jwks-url", "JWK Set URL of the issuers' keys; may be repeated (required)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fhirproxy -upstream URL -issuer ISS -jwks-url URL [flags]\n\n"+
			"A SMART gateway: verifies access tokens and enforces their scopes in front of a FHIR server.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case *upstream == "":
		return errors.New("-upstream is required")
	case len(issuers) == 0 || len(jwksURLs) == 0:
		return errors.New("-issuer and -jwks-url are required")
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if *baseURL == "" {
		*baseURL = "http://" + ln.Addr().String() + "/fhir"
	}
	if *audience == "" {
		*audience = *baseURL
	}
	verifier, err := middleware.NewJWTVerifier(ctx, middleware.JWTConfig{
		JWKSURLs: jwksURLs,
		Issuers:  issuers,
		Audience: *audience,
	})
	if err != nil {
		return err
	}
	h, err := fhirproxy.New(fhirproxy.Config{
		Upstream: *upstream,
		BaseURL:  *baseURL,
		Verifier: verifier,
		Logger:   logger,
	})
	if err != nil {
		return err
	}

	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "base_url", *baseURL, "upstream", *upstream)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
