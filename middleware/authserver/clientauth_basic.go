package authserver

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

// maxBasicCredentialsLen bounds the base64 credentials of a Basic
// Authorization header.
const maxBasicCredentialsLen = 4096

// basicCredentials are the client_id and secret of a Basic Authorization
// header, as sent (raw) and application/x-www-form-urlencoded-decoded.
type basicCredentials struct {
	rawID, rawSecret string
	// id and secret are the decoded values, or the raw ones if those are
	// not valid form encoding.
	id, secret string
}

// parseBasicCredentials parses the value of an Authorization header with
// the Basic scheme (RFC 7617, case-insensitive) as RFC 6749 §2.3.1 defines
// it for clients: base64 of client_id ":" secret, each form-encoded. It
// splits at the first colon, so a client_id cannot contain a raw colon
// (it can if encoded as %3A) while a secret can. Invalid form encoding is
// not an error: the raw value is kept, for clients that do not encode.
func parseBasicCredentials(header string) (basicCredentials, error) {
	scheme, token, ok := strings.Cut(strings.Trim(header, " \t"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return basicCredentials{}, fmt.Errorf("%w: not the Basic scheme", errMalformedBasic)
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || len(token) > maxBasicCredentialsLen {
		return basicCredentials{}, fmt.Errorf("%w: bad credentials length", errMalformedBasic)
	}
	decoded, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return basicCredentials{}, fmt.Errorf("%w: bad base64", errMalformedBasic)
	}
	rawID, rawSecret, ok := strings.Cut(string(decoded), ":")
	if !ok || rawID == "" {
		return basicCredentials{}, fmt.Errorf("%w: no client_id", errMalformedBasic)
	}
	return basicCredentials{
		rawID:     rawID,
		rawSecret: rawSecret,
		id:        formDecodeOrRaw(rawID),
		secret:    formDecodeOrRaw(rawSecret),
	}, nil
}

// secrets returns the candidate secrets: the decoded one and, if it
// differs, the raw one.
func (b basicCredentials) secrets() []string {
	if b.secret == b.rawSecret {
		return []string{b.secret}
	}
	return []string{b.secret, b.rawSecret}
}

// formDecodeOrRaw returns s decoded as application/x-www-form-urlencoded
// ("+" is a space, %XX an octet), or s itself if it has an invalid escape.
func formDecodeOrRaw(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	d, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return d
}

// authenticateBasic authenticates a client_secret_basic request.
// formClientID is the client_id form parameter, if any; it must name the
// same client.
func (a *ClientAuthenticator) authenticateBasic(ctx context.Context, header, formClientID string) (*Client, error) {
	cred, err := parseBasicCredentials(header)
	if err != nil {
		return nil, clientAuthFailed(true, err)
	}
	c, err := a.lookupClient(ctx, cred.id)
	if err != nil {
		return nil, err
	}
	if c == nil && cred.rawID != cred.id {
		// A client that did not form-encode its client_id.
		if c, err = a.lookupClient(ctx, cred.rawID); err != nil {
			return nil, err
		}
	}
	return a.checkSecret(c, AuthClientSecretBasic, formClientID, cred.secrets()...)
}

// authenticatePost authenticates a client_secret_post request.
func (a *ClientAuthenticator) authenticatePost(ctx context.Context, clientID, secret string) (*Client, error) {
	if clientID == "" {
		return nil, clientAuthFailed(false, errNoClientCredentials)
	}
	c, err := a.lookupClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return a.checkSecret(c, AuthClientSecretPost, "", secret)
}

// checkSecret verifies candidate secrets of client c (nil if unknown), which
// used method. An unknown client or one registered for another method is
// checked against a dummy hash, so that it costs the same as a wrong
// secret.
func (a *ClientAuthenticator) checkSecret(c *Client, method AuthMethod, formClientID string, candidates ...string) (*Client, error) {
	basic := method == AuthClientSecretBasic
	stored := a.dummyHash
	registered := c != nil && c.AuthMethod == method
	if registered {
		stored = c.SecretHash
	}
	h, err := parseSecretHash(stored)
	if err != nil {
		return nil, clientStoreError(fmt.Errorf("authserver: registered secret hash: %w", err))
	}
	ok := h.matches(candidates...)
	switch {
	case c == nil:
		return nil, clientAuthFailed(basic, ErrUnknownClient)
	case !registered:
		return nil, clientAuthFailed(basic, errWrongClientMethod)
	case !ok:
		return nil, clientAuthFailed(basic, errWrongClientSecret)
	case formClientID != "" && formClientID != c.ID:
		return nil, clientAuthFailed(basic, errClientIDMismatch)
	}
	return c, nil
}
