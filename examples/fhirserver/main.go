// Command fhirserver is the smartauth demo: a small FHIR server whose routes
// are protected by the smartauth middleware, together with a SMART token
// endpoint (refresh_token grant), JWKS, discovery, introspection and
// revocation endpoints.
//
//	go run ./examples/fhirserver
//	go run github.com/smartauth/smartauth/examples/fhirserver@latest
//
// It runs from any directory: its configuration and FHIR data are built in
// (copies of the module's testdata/demo-config.json and testdata/fhir). At
// every start it mints a fresh grant and prints its refresh token (a demo
// credential) with curl commands that refresh it and read the patient in
// context.
//
// Flags:
//
//	-addr       listen address (default 127.0.0.1:8080)
//	-base-url   public base URL (default http://<addr>)
//	-config     configuration file (default: the built-in one)
//	-data       directory of FHIR resources, *.json (default: the built-in ones)
//	-store      token store: memory (default), redis://…, postgres://…
//	-log-level  debug (default: refused requests are logged), info, warn or error
//	-signing-keys  key set file shared by instances (JWK Set or PEM with kid;
//	               re-read every 10 s); default: a key generated at start
//	-app-addr   listen address of the sample SMART app, another origin
//	            (default 127.0.0.1:8081; empty: no sample app)
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
	"strings"
	"syscall"
	"time"

	"github.com/smartauth/smartauth/examples/internal/demo"
	"github.com/smartauth/smartauth/tokenstore"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2) // the flag package has said what is wrong
	default:
		slog.Error("fhirserver stopped", "error", err)
		os.Exit(1)
	}
}

// errUsage reports command-line flags that could not be parsed.
var errUsage = errors.New("fhirserver: bad usage")

// run runs the demo until ctx ends or SIGINT/SIGTERM. It writes the welcome
// text to stdout, and usage and JSON logs to stderr. -h prints the usage
// and returns nil.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fhirserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address`")
	baseURL := fs.String("base-url", "", "public base `URL` (default http://<addr>)")
	configPath := fs.String("config", "", "configuration `file` (default: the built-in one, a copy of testdata/demo-config.json)")
	dataDir := fs.String("data", "", "`directory` of FHIR resources, one *.json file each (default: the built-in ones, a copy of testdata/fhir)")
	storeURL := fs.String("store", "memory", "token store `URL`: memory, redis://… or postgres://…")
	signingKeys := fs.String("signing-keys", "", "key set `file` shared by instances (JWK Set or PEM with kid, re-read every 10 s); default: a key generated at start")
	appAddr := fs.String("app-addr", "127.0.0.1:8081", "listen `address` of the sample SMART app (another origin); empty: none")
	var level slog.Level
	fs.TextVar(&level, "log-level", slog.LevelDebug, "log `level`: debug (refused requests are logged at debug), info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fhirserver [flags]\n\n"+
			"The smartauth demo: a SMART-protected FHIR server with its token, JWKS,\n"+
			"discovery, introspection and revocation endpoints. It prints its URLs and\n"+
			"demo credentials on stdout, JSON logs on stderr.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg := demo.DefaultConfig()
	if *configPath != "" {
		var err error
		if cfg, err = demo.LoadConfig(*configPath); err != nil {
			return err
		}
	}
	data := demo.DefaultData()
	if *dataDir != "" {
		data = os.DirFS(*dataDir)
	}
	store, closeStore, err := demo.OpenStore(ctx, *storeURL, demo.StoreOptions{})
	if err != nil {
		return err
	}
	defer closeStore()

	ln, err := listen(*addr)
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
			return fmt.Errorf("fhirserver: the sample app's address %s is not available (choose another with -app-addr, or -app-addr \"\" for none): %w", *appAddr, err)
		}
		appURL = "http://" + appLn.Addr().String()
	}
	srv, err := demo.New(ctx, demo.Options{BaseURL: *baseURL, Config: cfg, Data: data, Store: store, Logger: logger,
		SigningKeysFile: *signingKeys, AppURL: appURL})
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

// listen listens on addr; its error names the -addr flag, which changes
// the address.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%s is already in use (is another demo running?): choose another address with -addr, e.g. -addr 127.0.0.1:8081: %w", addr, err)
	case err != nil:
		return nil, fmt.Errorf("cannot listen on %s: choose another address with -addr: %w", addr, err)
	}
	return ln, nil
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
		if strings.HasPrefix(u, k) {
			return k
		}
	}
	return "memory"
}
