package tokenstore

import "time"

// AuthorizationCode is the stored record of an OAuth authorization code:
// what the user authorised at the authorization endpoint, bound to the
// client, its redirect URI and its PKCE challenge, until the client
// exchanges it at the token endpoint. The code itself is never stored,
// only its Hash.
type AuthorizationCode struct {
	// Hash is HashToken of the code value, a value made by
	// NewRefreshToken(GrantID).
	Hash Hash
	// GrantID is the ID of the grant the code creates when it is
	// exchanged (RedeemCode), chosen when the code is issued (NewID). The
	// code value names it, and RedeemCode revokes the grant with this ID
	// if the code is presented twice.
	GrantID string
	// ClientID is the client the code was issued to.
	ClientID string
	// RedirectURI is the redirect_uri of the authorization request, which
	// the token request must repeat exactly (RFC 6749 §4.1.3).
	RedirectURI string
	// CodeChallenge is the PKCE code_challenge (RFC 7636), method S256:
	// base64url (no padding) of the SHA-256 of the code_verifier.
	CodeChallenge string
	// Scope is the granted scope, space-separated.
	Scope string
	// Subject is the authorised user's identifier (sub).
	Subject string
	// FHIRUser is the FHIR resource URL of the user (fhirUser), if any.
	FHIRUser string
	// LaunchContext is the SMART launch context the grant will carry,
	// opaque to the store.
	LaunchContext []byte
	// Nonce is the OpenID Connect nonce of the authorization request, to
	// be repeated in the id_token; empty if none.
	Nonce string
	// AuthTime is when the user authenticated (the id_token's auth_time);
	// zero if unknown.
	AuthTime time.Time
	// IssuedAt is when the code was issued.
	IssuedAt time.Time
	// ExpiresAt is when the code stops being exchangeable: at most 60
	// seconds after IssuedAt, which the authorization server enforces.
	ExpiresAt time.Time
	// UsedAt is when the code was redeemed, or consumed by a refused
	// presentation (another client's, or one with the wrong redirect URI
	// or code challenge): the Now of that request; zero if it has not
	// been used.
	UsedAt time.Time
}

// RevokedGrant returns the grant RedeemCode stores under c.GrantID when
// c, already used, is presented again and no grant with that ID exists
// (c was consumed by a refused presentation: another client's, or one
// with the wrong redirect URI or code challenge): a revoked grant
// (revoked at now) of c's client, subject, user and scope, without launch
// context, idle timeout or Kind (it has no refresh tokens), issued at now
// and expiring CodeRetention after the later of now and c.ExpiresAt. Its
// only purpose is to exist, revoked: the ID the code named can never be
// given to a grant (Store.CreateGrant fails with ErrConflict), and
// Store.Grant reports it revoked to whoever checks an access token that
// names it.
func (c AuthorizationCode) RevokedGrant(now time.Time) Grant {
	end := c.ExpiresAt
	if now.After(end) {
		end = now
	}
	return Grant{
		ID:        c.GrantID,
		ClientID:  c.ClientID,
		Subject:   c.Subject,
		FHIRUser:  c.FHIRUser,
		Scope:     c.Scope,
		IssuedAt:  now,
		ExpiresAt: end.Add(CodeRetention),
		Revoked:   true,
		RevokedAt: now,
	}
}

// Launch is the stored record of a SMART EHR launch: the context the EHR
// registered, which the app brings into its authorization request with
// the opaque launch value (SMART App Launch 2.2, EHR launch). The value
// itself is never stored, only its Hash.
type Launch struct {
	// Hash is HashToken of the launch value, a value made by NewToken.
	Hash Hash
	// ClientID, if not empty, is the only client that may use the launch;
	// the caller of ConsumeLaunch checks it. Empty means any client.
	ClientID string
	// LaunchContext is the context of the launch (patient, encounter,
	// fhirContext, intent, ...), opaque to the store.
	LaunchContext []byte
	// IssuedAt is when the launch was registered.
	IssuedAt time.Time
	// ExpiresAt is when the launch value stops being usable.
	ExpiresAt time.Time
}
