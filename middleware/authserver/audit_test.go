package authserver_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware/authserver"
)

func TestSlogAuditFormat(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	audit := authserver.SlogAudit(l)
	audit(context.Background(), authserver.AuditEvent{Kind: authserver.AuditRefreshSucceeded, ClientID: "c", GrantID: "g", Time: time.Now()})
	audit(context.Background(), authserver.AuditEvent{Kind: authserver.AuditRefreshFailed, ClientID: "c", Reason: "expired"})
	assert.Equal(t,
		"level=INFO msg=\"smartauth audit\" event=refresh_succeeded client_id=c grant_id=g\n"+
			"level=WARN msg=\"smartauth audit\" event=refresh_failed client_id=c reason=expired\n",
		buf.String())
}

// TestAuditNeverLogsSecrets runs successes and failures through the default
// (slog) audit and logger and checks that no token or secret appears.
func TestAuditNeverLogsSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fs := newFailingStore()
	e := newEnv(t, func(c *authserver.TokenConfig) {
		c.Audit = nil // the default: SlogAudit(Logger)
		c.Logger = logger
		fs.Store = c.Store
		c.Store = fs
	})
	rt0 := e.grant(clientA, testScope)
	r1 := e.refreshOK(rt0)
	e.refreshOK(r1.RefreshToken)
	require.Equal(t, 400, e.refresh(rt0).Code) // reuse: family revoked
	wrongSecret := "definitely-wrong-secret-value"
	require.Equal(t, 401, e.post(refreshForm(r1.RefreshToken), basic(clientA, wrongSecret)).Code)
	rt := e.grant(clientA, testScope)
	fs.fail.set("Rotate", true)
	require.Equal(t, 503, e.refresh(rt).Code)

	out := buf.String()
	for _, secret := range []string{rt0, r1.RefreshToken, r1.AccessToken, r1.IDToken, rt, clientASecret, wrongSecret} {
		assert.NotContains(t, out, secret)
	}
	// Not even a part of a token (the first JWS segment is a constant
	// header, so check the signature part).
	assert.NotContains(t, out, r1.AccessToken[strings.LastIndexByte(r1.AccessToken, '.')+1:])
	for _, want := range []string{
		`"event":"grant_created"`, `"event":"refresh_succeeded"`, `"event":"reuse_detected_family_revoked"`,
		`"event":"client_authentication_failed"`, `"reason":"store_error"`, `"client_id":"app-a"`,
	} {
		assert.Contains(t, out, want)
	}
}
