package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// DefaultLaunchLifetime is how long a launch value made by CreateLaunch
// can be used when AuthorizationConfig.LaunchLifetime is zero: the app
// must have sent its authorization request by then.
const DefaultLaunchLifetime = 5 * time.Minute

// EHRLaunch is what the EHR registers when a user launches an app from
// within it (SMART App Launch 2.2, "Launch App: EHR Launch").
type EHRLaunch struct {
	// ClientID, if not empty, is the only client that may use the
	// launch: the EHR knows which app it launches. Zero value: any
	// client.
	ClientID string
	// Subject, if not empty, is the user the EHR launched the app for
	// (User.Subject): whoever Login identifies must be them, or the app
	// gets access_denied. Zero value: any user.
	Subject string
	// Context is the launch context the app receives in the token
	// response, if it is granted the launch scope: patient, encounter,
	// fhirContext, intent, tenant, need_patient_banner,
	// smart_style_url.
	Context Launch
}

// launchRecord is the stored form of an EHRLaunch (the LaunchContext of
// tokenstore.Launch).
type launchRecord struct {
	Context Launch `json:"context"`
	Subject string `json:"sub,omitempty"`
}

// CreateLaunch registers an EHR launch and returns its launch value:
// random (256 bits), opaque, usable once, for LaunchLifetime. The EHR
// then opens the app's launch URL with the parameters iss (the FHIR base
// URL, AuthorizationConfig.Audience) and launch (this value); the app
// sends it back in its authorization request with the launch scope, and
// gets the context with its tokens. Only the value's hash is stored.
func (h *AuthorizationHandler) CreateLaunch(ctx context.Context, l EHRLaunch) (string, error) {
	if strings.ContainsFunc(l.ClientID, isControl) || strings.ContainsFunc(l.Subject, isControl) {
		return "", errors.New("authserver: EHRLaunch: control characters in ClientID or Subject")
	}
	b, err := json.Marshal(launchRecord{Context: l.Context, Subject: l.Subject})
	if err != nil {
		return "", fmt.Errorf("authserver: encoding launch context: %w", err)
	}
	value, hash := tokenstore.NewToken()
	now := h.now()
	rec := tokenstore.Launch{
		Hash: hash, ClientID: l.ClientID, LaunchContext: b,
		IssuedAt: now, ExpiresAt: now.Add(h.launchLifetime),
	}
	_, err = callWithDeadline(ctx, h.storeTimeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, h.store.CreateLaunch(ctx, rec)
	})
	if err != nil {
		return "", fmt.Errorf("authserver: storing launch: %w", err)
	}
	h.audit(ctx, AuditEvent{Kind: AuditLaunchCreated, ClientID: l.ClientID, Time: now})
	return value, nil
}

// consumeLaunch takes the launch named by value, once, and returns it if
// it may be used by clientID. ok is false for a launch that is unknown,
// used, expired or another client's; err reports a store failure.
func (h *AuthorizationHandler) consumeLaunch(ctx context.Context, value, clientID string) (rec launchRecord, ok bool, err error) {
	l, err := callWithDeadline(ctx, h.storeTimeout, func(ctx context.Context) (tokenstore.Launch, error) {
		return h.store.ConsumeLaunch(ctx, tokenstore.TokenRef{Hash: tokenstore.HashToken(value)}, h.now())
	})
	switch {
	case tokenstore.IsRecordError(err):
		return rec, false, nil
	case err != nil:
		return rec, false, err
	case l.ClientID != "" && l.ClientID != clientID:
		return rec, false, nil
	}
	if err := json.Unmarshal(l.LaunchContext, &rec); err != nil {
		return rec, false, fmt.Errorf("authserver: decoding stored launch: %w", err)
	}
	return rec, true, nil
}
