package authserver

import (
	"context"
	"log/slog"
	"time"
)

// Audit event kinds.
const (
	// AuditRefreshSucceeded: a refresh token was rotated and new tokens
	// issued. Reason is "retry" when the token had already been used and
	// its client presented it again within the retry window (the
	// successor issued before is superseded).
	AuditRefreshSucceeded = "refresh_succeeded"
	// AuditRefreshFailed: a refresh was refused. Reason says why:
	// "not_found", "expired", "revoked", "client_mismatch",
	// "invalid_scope", "store_error" and "store_timeout" (answered 503),
	// "server_error" (answered 500 after the token was rotated: the
	// client's retry succeeds).
	AuditRefreshFailed = "refresh_failed"
	// AuditReuseDetected: an already rotated refresh token was presented
	// again; its whole family (GrantID) has been revoked.
	AuditReuseDetected = "reuse_detected_family_revoked"
	// AuditClientAuthFailed: client authentication failed at the token
	// endpoint. Reason is the OAuth error code.
	AuditClientAuthFailed = "client_authentication_failed"
	// AuditGrantCreated: CreateGrant, or a code exchange, made a new
	// grant (token family). Reason is its kind ("offline", "online").
	AuditGrantCreated = "grant_created"
	// AuditClientCredentialsSucceeded: the client_credentials grant issued
	// an access token. Reason is "scope_reduced" when some requested
	// scope was not granted (not covered by the client's registered
	// scope), else "".
	AuditClientCredentialsSucceeded = "client_credentials_succeeded"
	// AuditClientCredentialsFailed: the client_credentials grant refused
	// an authenticated client. Reason is "unauthorized_client" (not a
	// private_key_jwt client with registered system/ scopes),
	// "invalid_scope" or "server_error" (the token could not be signed).
	// Failed client authentication is AuditClientAuthFailed.
	AuditClientCredentialsFailed = "client_credentials_failed"
)

// AuditEvent is a security-relevant event of the token endpoint. It never
// holds a token, a secret, a client assertion or a claim value.
type AuditEvent struct {
	// Kind is one of the Audit… constants.
	Kind string
	// ClientID is the authenticated client, or "" if unknown.
	ClientID string
	// GrantID is the grant (token family) concerned, or "" if unknown.
	GrantID string
	// Reason details the outcome (see the kinds), or "".
	Reason string
	// Time is when the event happened (the handler's clock).
	Time time.Time
}

// AuditFunc receives audit events. It is called synchronously on the
// request's goroutine and must be safe for concurrent use.
type AuditFunc func(ctx context.Context, e AuditEvent)

// SlogAudit returns an AuditFunc that logs each event to l (slog.Default if
// nil) at level Info, failures and reuse at Warn, with the message
// "smartauth audit" and the attributes event, client_id, grant_id and reason.
func SlogAudit(l *slog.Logger) AuditFunc {
	return func(ctx context.Context, e AuditEvent) {
		logger := l
		if logger == nil {
			logger = slog.Default()
		}
		level := slog.LevelInfo
		switch e.Kind {
		case AuditRefreshSucceeded, AuditGrantCreated, AuditClientCredentialsSucceeded, AuditCodeIssued, AuditCodeExchanged, AuditLaunchCreated:
		default:
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{slog.String("event", e.Kind)}
		if e.ClientID != "" {
			attrs = append(attrs, slog.String("client_id", e.ClientID))
		}
		if e.GrantID != "" {
			attrs = append(attrs, slog.String("grant_id", e.GrantID))
		}
		if e.Reason != "" {
			attrs = append(attrs, slog.String("reason", e.Reason))
		}
		logger.LogAttrs(ctx, level, "smartauth audit", attrs...)
	}
}
