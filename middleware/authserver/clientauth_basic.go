package authserver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// maxBasicCredentialsLen bounds the base64 credentials of a Basic
// Authorization header.
const maxBasicCredentialsLen = 4096

// basicCredentials are the client_id and secret of a Basic Authorization
// header, each application/x-www-form-urlencoded-decoded (or raw, if it is
// not valid form encoding).
type basicCredentials struct {
	id, secret string
}

// parseBasicCredentials parses the value of an Authorization header with
// the Basic scheme (RFC 7617, case-insensitive) as RFC 6749 §2.3.1 defines
// it for clients: base64 of client_id ":" secret, each encoded with the
// application/x-www-form-urlencoded algorithm. It splits at the first
// colon, so a client_id cannot contain a raw colon (it can as %3A) while a
// secret can. Each part is form-decoded ("+" is a space, %XX an octet); a
// part that is not valid form encoding (a "%" not followed by two hex
// digits) is taken as it was sent, for clients that do not encode. There
// is exactly one reading of each part, so a secret is hashed once per
// attempt: a client that does not encode a secret holding "+" or a valid
// %XX escape fails to authenticate (generated secrets should use the
// base64url alphabet, which needs no encoding).
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
	return basicCredentials{id: formDecodeOrRaw(rawID), secret: formDecodeOrRaw(rawSecret)}, nil
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
	return a.authenticateSecret(ctx, AuthClientSecretBasic, cred.id, cred.secret, formClientID)
}

// authenticatePost authenticates a client_secret_post request.
func (a *ClientAuthenticator) authenticatePost(ctx context.Context, clientID, secret string) (*Client, error) {
	if clientID == "" {
		return nil, clientAuthFailed(false, errNoClientCredentials)
	}
	return a.authenticateSecret(ctx, AuthClientSecretPost, clientID, secret, "")
}

// authenticateSecret authenticates client id with secret, sent with method
// (client_secret_basic or client_secret_post). formClientID, if not empty,
// must equal id.
//
// The cost is the same whether id is registered or not: the failure
// budget of id is checked (and, once spent, the attempt refused with 429
// before any lookup or hash), the client is looked up, and exactly one
// hash is computed — of the registered hash's scheme, or of the dummy hash
// (the scheme and cost of HashSecret) for an unknown client or one
// registered for another method. Only a failed check spends an attempt of
// id's budget.
func (a *ClientAuthenticator) authenticateSecret(ctx context.Context, method AuthMethod, id, secret, formClientID string) (*Client, error) {
	basic := method == AuthClientSecretBasic
	if wait := a.throttle.wait(id, a.now()); wait > 0 {
		return nil, clientThrottled(wait)
	}
	c, err := a.checkSecret(ctx, method, id, secret)
	if errors.Is(err, errSecretCheckFailed) {
		a.throttle.fail(id, a.now())
	}
	switch {
	case err != nil:
		return nil, err
	case formClientID != "" && formClientID != c.ID:
		return nil, clientAuthFailed(basic, errClientIDMismatch)
	}
	return c, nil
}

// errSecretCheckFailed is wrapped by the errors of checkSecret that spend
// an attempt: the secret did not verify (unknown client, wrong method or
// wrong secret).
var errSecretCheckFailed = errors.New("authserver: client secret check failed")

// checkSecret looks up client id and verifies secret against its
// registered hash, or against the dummy hash if the client is unknown or
// may not use method (acceptsSecretMethod). It hashes secret exactly once.
func (a *ClientAuthenticator) checkSecret(ctx context.Context, method AuthMethod, id, secret string) (*Client, error) {
	basic := method == AuthClientSecretBasic
	c, err := a.lookupClient(ctx, id)
	if err != nil {
		return nil, err
	}
	stored := a.dummyHash
	registered := c != nil && acceptsSecretMethod(c.AuthMethod, method)
	if registered {
		stored = c.SecretHash
	}
	h, err := parseSecretHash(stored)
	if err != nil {
		return nil, clientServerError(fmt.Errorf("authserver: registered secret hash: %w", err))
	}
	ok := h.matches(secret)
	switch {
	case c == nil:
		return nil, clientAuthFailed(basic, fmt.Errorf("%w: %w", errSecretCheckFailed, ErrUnknownClient))
	case !registered:
		return nil, clientAuthFailed(basic, fmt.Errorf("%w: %w", errSecretCheckFailed, errWrongClientMethod))
	case !ok:
		return nil, clientAuthFailed(basic, fmt.Errorf("%w: %w", errSecretCheckFailed, errWrongClientSecret))
	}
	return c, nil
}

// acceptsSecretMethod reports whether a client registered with registered
// may authenticate with its secret sent by method (client_secret_basic or
// client_secret_post).
//
// RFC 6749 §2.3.1: the authorization server MUST support HTTP Basic for
// clients that were issued a password, so every client registered with a
// secret — client_secret_basic or client_secret_post — may use Basic. The
// secret in the request body is NOT RECOMMENDED and only for clients that
// cannot use Basic, so it is accepted from client_secret_post clients only.
func acceptsSecretMethod(registered, method AuthMethod) bool {
	switch method {
	case AuthClientSecretBasic:
		return registered == AuthClientSecretBasic || registered == AuthClientSecretPost
	case AuthClientSecretPost:
		return registered == AuthClientSecretPost
	}
	return false
}
