package tokenstore

import (
	"time"
)

// Kind tells whether a grant was made for offline or online access.
type Kind string

const (
	// KindOffline is a grant made with the offline_access scope: its refresh
	// tokens outlive the user's session.
	KindOffline Kind = "offline"
	// KindOnline is a grant made with the online_access scope: its refresh
	// tokens live only as long as the user's session, so they get a short
	// idle and absolute lifetime.
	KindOnline Kind = "online"
)

// Grant is a token family: everything the user authorised one client to do,
// and the state shared by every refresh token rotated from the first one.
type Grant struct {
	// ID identifies the family. It is random and not secret.
	ID string
	// ClientID is the client the grant was issued to.
	ClientID string
	// Subject is the authorised user's (or system's) identifier: the sub
	// of the access tokens.
	Subject string
	// FHIRUser is the FHIR resource URL of the user (fhirUser), if any.
	FHIRUser string
	// Scope is the originally granted scope, space-separated. It never
	// changes: narrower scopes on refresh apply to access tokens only.
	Scope string
	// LaunchContext is the SMART launch context of the grant, opaque to
	// the store (the authorization server stores JSON).
	LaunchContext []byte
	// IssuedAt is when the grant was made.
	IssuedAt time.Time
	// ExpiresAt is the absolute expiry: no refresh token of the family is
	// valid at or after it, and the store may remove the family then.
	ExpiresAt time.Time
	// IdleTimeout is the idle expiry: each refresh token expires
	// IdleTimeout after it was issued (never after ExpiresAt). Zero means
	// tokens live until ExpiresAt.
	IdleTimeout time.Duration
	// Kind is KindOffline or KindOnline.
	Kind Kind
	// Revoked is true once the family has been revoked (explicitly, or
	// because reuse of a rotated token was detected).
	Revoked bool
	// RevokedAt is when it was revoked; zero if not revoked.
	RevokedAt time.Time
}

// RefreshToken is the stored record of one refresh token. The token itself is
// never stored, only its Hash.
type RefreshToken struct {
	// Hash is HashToken of the token value.
	Hash Hash
	// GrantID is the family the token belongs to.
	GrantID string
	// Generation is 1 for the first token of a family and increases by one
	// at each rotation.
	Generation int
	// IssuedAt is when the token was issued.
	IssuedAt time.Time
	// ExpiresAt is when the token stops being valid (its idle expiry).
	ExpiresAt time.Time
	// UsedAt is when the token was first presented and rotated (the Now of
	// that request), or when it was superseded by a retry of its
	// predecessor; zero if it has not been used. A token with UsedAt set
	// is dead.
	UsedAt time.Time
}

// Check reports whether the token can be used at now, given its grant: nil,
// or ErrRevoked, ErrExpired or ErrReused (the token was already rotated).
// It is what introspection and revocation use; Store.Rotate applies the same
// rules atomically.
func (t RefreshToken) Check(g Grant, now time.Time) error {
	switch {
	case g.Revoked:
		return ErrRevoked
	case !now.Before(g.ExpiresAt), !now.Before(t.ExpiresAt):
		return ErrExpired
	case !t.UsedAt.IsZero():
		return ErrReused // used or superseded
	}
	return nil
}

// NextExpiry is the expiry the store gives a token issued at now in grant g:
// min(now + g.IdleTimeout, g.ExpiresAt), or g.ExpiresAt if IdleTimeout is 0.
func (g Grant) NextExpiry(now time.Time) time.Time {
	if g.IdleTimeout <= 0 {
		return g.ExpiresAt
	}
	if exp := now.Add(g.IdleTimeout); exp.Before(g.ExpiresAt) {
		return exp
	}
	return g.ExpiresAt
}
