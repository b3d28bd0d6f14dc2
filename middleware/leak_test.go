package middleware_test

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/smartauth/smartauth/internal/leaksuite"
	"github.com/smartauth/smartauth/middleware"
)

// TestLeakSuite runs the leak suite against RequireFHIRScopes in front of a
// FHIR server that enforces nothing: every guarantee comes from the
// middleware.
func TestLeakSuite(t *testing.T) {
	leaksuite.Run(t, func(t *testing.T, env leaksuite.Env) http.Handler {
		env.FHIR.BaseURL = leaksuite.BaseURL
		fhir := middleware.RequireFHIRScopes(
			middleware.WithBasePath(leaksuite.BasePath),
			middleware.WithBaseURL(leaksuite.BaseURL),
			middleware.WithResourceLoader(env.FHIR.Loader()),
			middleware.WithAuditLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		)
		return env.Authenticate(fhir(http.StripPrefix(leaksuite.BasePath, env.Upstream(env.FHIR))))
	})
}
