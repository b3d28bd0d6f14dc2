// Command fhirserver is the smartauth demo: a small FHIR server whose routes
// are protected by the smartauth middleware, together with a SMART token
// endpoint (refresh_token grant), JWKS, discovery, introspection and
// revocation endpoints.
//
//	go run ./examples/fhirserver
//
// At start it prints ready-to-use curl commands that reproduce the SMART
// launcher's refresh exchange and read the patient in context.
//
// Flags:
//
//	-addr      listen address (default 127.0.0.1:8080)
//	-base-url  public base URL (default http://<addr>)
//	-config    configuration file (default testdata/demo-config.json)
//	-data      directory of FHIR resources (default testdata/fhir)
//	-store     token store: memory (default), redis://…, postgres://…
//	-app-addr  listen address of the sample SMART app, another origin
//	           (default 127.0.0.1:8081; empty: no sample app)
//
// It is also a SMART sandbox: open the launch page it prints to launch the
// sample app (or yours) with an EHR or a standalone launch.
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
	"syscall"
	"time"

	"github.com/smartauth/smartauth/examples/internal/demo"
	"github.com/smartauth/smartauth/tokenstore"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		slog.Error("fhirserver stopped", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fhirserver", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	baseURL := fs.String("base-url", "", "public base URL (default http://<addr>)")
	configPath := fs.String("config", "testdata/demo-config.json", "configuration file")
	dataDir := fs.String("data", "testdata/fhir", "directory of FHIR resources (*.json)")
	storeURL := fs.String("store", "memory", "token store: memory, redis://… or postgres://…")
	appAddr := fs.String("app-addr", "127.0.0.1:8081", "listen address of the sample SMART app (another origin); empty: none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := demo.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	store, closeStore, err := demo.OpenStore(ctx, *storeURL)
	if err != nil {
		return err
	}
	defer closeStore()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *baseURL == "" {
		*baseURL = "http://" + ln.Addr().String()
	}
	var appLn net.Listener
	appURL := ""
	if *appAddr != "" {
		if appLn, err = net.Listen("tcp", *appAddr); err != nil {
			_ = ln.Close()
			return err
		}
		appURL = "http://" + appLn.Addr().String()
	}
	srv, err := demo.New(ctx, demo.Options{BaseURL: *baseURL, Config: cfg, DataDir: *dataDir, Store: store, Logger: logger, AppURL: appURL})
	if err != nil {
		_ = ln.Close()
		if appLn != nil {
			_ = appLn.Close()
		}
		return err
	}
	if sw, ok := store.(tokenstore.Sweeper); ok {
		go sweep(ctx, sw, logger)
	}
	demo.PrintWelcome(stdout, srv, cfg)

	hs := &http.Server{
		Handler:           srv.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "base_url", *baseURL, "store", storeKind(*storeURL))
	var apps *http.Server
	if appLn != nil {
		apps = &http.Server{Handler: srv.AppHandler, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
		go func() { errc <- apps.Serve(appLn) }()
		logger.Info("sample app listening", "url", appURL)
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if apps != nil {
		_ = apps.Shutdown(shutdownCtx)
	}
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// sweep removes expired records from stores that need it (PostgreSQL) every
// minute until ctx ends.
func sweep(ctx context.Context, sw tokenstore.Sweeper, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n, err := sw.Sweep(ctx, now)
			if err != nil {
				logger.Warn("sweep failed", "error", err)
				continue
			}
			logger.Debug("swept expired token records", "removed", n)
		}
	}
}

// storeKind names the store without printing credentials in its URL.
func storeKind(u string) string {
	for _, k := range []string{"redis", "postgres"} {
		if len(u) >= len(k) && u[:len(k)] == k {
			return k
		}
	}
	return "memory"
}
