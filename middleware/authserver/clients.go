package authserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ErrUnknownClient is returned by a ClientStore when no client has the
// requested client_id.
var ErrUnknownClient = errors.New("authserver: unknown client")

// ErrInvalidRegistration reports a Client whose registration is incomplete or
// inconsistent (see ValidateClient).
var ErrInvalidRegistration = errors.New("authserver: invalid client registration")

// ClientStore looks up registered clients by client_id.
//
// Client returns ErrUnknownClient (possibly wrapped) if there is no such
// client. Any other error is a failure of the store and is answered with
// server_error. Implementations must be safe for concurrent use; the
// returned Client must not be modified by the caller nor by the store
// afterwards.
type ClientStore interface {
	Client(ctx context.Context, id string) (*Client, error)
}

// StaticClients is an in-memory ClientStore holding a fixed set of clients.
// It is safe for concurrent use.
type StaticClients struct {
	clients map[string]*Client
}

// NewStaticClients returns a ClientStore holding copies of clients. Every
// client must pass ValidateClient and client IDs must be unique.
func NewStaticClients(clients ...Client) (*StaticClients, error) {
	s := &StaticClients{clients: make(map[string]*Client, len(clients))}
	for i := range clients {
		c := clients[i]
		if err := ValidateClient(&c); err != nil {
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
		if _, dup := s.clients[c.ID]; dup {
			return nil, fmt.Errorf("client %d: %w: duplicate client ID", i, ErrInvalidRegistration)
		}
		c.JWKS = bytes.Clone(c.JWKS)
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		s.clients[c.ID] = &c
	}
	return s, nil
}

// Client returns a copy of the client with the given ID, or
// ErrUnknownClient.
func (s *StaticClients) Client(_ context.Context, id string) (*Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, ErrUnknownClient
	}
	cp := *c
	return &cp, nil
}

// ValidateClient checks that c is a complete, consistent registration:
//
//   - ID is not empty and has no control characters;
//   - AuthMethod is one of the AuthMethod constants;
//   - client_secret_basic and client_secret_post clients have a SecretHash
//     in a supported format (see HashSecret) and no keys;
//   - private_key_jwt clients have a JWKS with at least one usable
//     signature key (RSA of 2048 bits or more, EC P-256/P-384/P-521, or
//     Ed25519) and/or an absolute https JWKSURL, and no SecretHash;
//   - public (none) clients have no credentials at all;
//   - Scope holds only scope-token characters (RFC 6749 §3.3) and spaces.
//
// Its errors wrap ErrInvalidRegistration.
//
// RedirectURIs must be distinct absolute URIs without fragment (RFC 6749
// §3.1.2): https, http for a loopback host only (localhost, 127.0.0.0/8,
// ::1; RFC 8252 §7.3), or the private-use scheme of a native app, a
// reversed domain name such as com.example.app (RFC 8252 §7.1).
func ValidateClient(c *Client) error {
	if c.ID == "" || strings.ContainsFunc(c.ID, isControl) {
		return fmt.Errorf("%w: empty client ID or control characters in it", ErrInvalidRegistration)
	}
	if strings.ContainsFunc(c.Scope, func(r rune) bool { return r != ' ' && !isScopeChar(r) }) {
		return fmt.Errorf("%w: Scope holds a character that no scope token may hold", ErrInvalidRegistration)
	}
	hasSecret, hasKeys := c.SecretHash != "", len(c.JWKS) > 0 || c.JWKSURL != ""
	switch c.AuthMethod {
	case AuthNone:
		if hasSecret || hasKeys {
			return fmt.Errorf("%w: a public client has no secret and no keys", ErrInvalidRegistration)
		}
	case AuthClientSecretBasic, AuthClientSecretPost:
		if hasKeys {
			return fmt.Errorf("%w: a %s client has no keys", ErrInvalidRegistration, c.AuthMethod)
		}
		if _, err := parseSecretHash(c.SecretHash); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidRegistration, err)
		}
	case AuthPrivateKeyJWT:
		if hasSecret {
			return fmt.Errorf("%w: a private_key_jwt client has no secret", ErrInvalidRegistration)
		}
		if !hasKeys {
			return fmt.Errorf("%w: a private_key_jwt client needs JWKS or JWKSURL", ErrInvalidRegistration)
		}
		if len(c.JWKS) > 0 {
			keys, err := parseClientKeySet(c.JWKS)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrInvalidRegistration, err)
			}
			if len(keys) == 0 {
				return fmt.Errorf("%w: JWKS has no usable signature key", ErrInvalidRegistration)
			}
		}
		if c.JWKSURL != "" {
			if err := checkJWKSURL(c.JWKSURL); err != nil {
				return fmt.Errorf("%w: %w", ErrInvalidRegistration, err)
			}
		}
	default:
		return fmt.Errorf("%w: unsupported authentication method", ErrInvalidRegistration)
	}
	return validateRedirectURIs(c.RedirectURIs)
}

// checkJWKSURL requires an absolute https URL without user info or
// fragment.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errJWKSURL
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
