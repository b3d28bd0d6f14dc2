package authserver

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// maxRedirectURILen bounds a registered or requested redirect URI.
const maxRedirectURILen = 2048

// validateRedirectURIs checks a client's registered redirect URIs (see
// ValidateClient).
func validateRedirectURIs(uris []string) error {
	for i, u := range uris {
		if err := checkRedirectURI(u); err != nil {
			return fmt.Errorf("%w: redirect URI %d: %w", ErrInvalidRegistration, i, err)
		}
		if slices.Contains(uris[:i], u) {
			return fmt.Errorf("%w: redirect URI %d is registered twice", ErrInvalidRegistration, i)
		}
	}
	return nil
}

// checkRedirectURI accepts an absolute URI without fragment or user info
// whose scheme is https, http with a loopback host, or a private-use
// scheme (a reversed domain name: it holds a dot).
func checkRedirectURI(raw string) error {
	if raw == "" || len(raw) > maxRedirectURILen || strings.ContainsFunc(raw, isSpaceOrControl) {
		return fmt.Errorf("empty, longer than %d bytes, or white space in it", maxRedirectURILen)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("not a URI")
	case u.Scheme == "":
		return fmt.Errorf("not an absolute URI")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("a fragment is not allowed (RFC 6749 §3.1.2)")
	case u.User != nil:
		return fmt.Errorf("user info is not allowed")
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "https":
		if u.Host == "" {
			return fmt.Errorf("an https URI needs a host")
		}
	case scheme == "http":
		if !isLoopbackHost(u.Hostname()) {
			return fmt.Errorf("http is allowed only for a loopback host (RFC 8252 §7.3)")
		}
	case strings.Contains(scheme, "."):
		// A private-use URI scheme of a native app (RFC 8252 §7.1).
	default:
		return fmt.Errorf("scheme %q is not allowed: use https, http on a loopback host, or a reversed domain name", u.Scheme)
	}
	return nil
}

// registeredRedirectURI returns the redirect URI an authorization request
// of c will be answered at: requested, if it is registered (compared
// exactly, RFC 9700 §4.1.3); the single registered URI if requested is
// empty and only one is registered (RFC 6749 §3.1.2.3). ok is false
// otherwise.
func registeredRedirectURI(c *Client, requested string) (uri string, ok bool) {
	if requested == "" {
		if len(c.RedirectURIs) == 1 {
			return c.RedirectURIs[0], true
		}
		return "", false
	}
	if slices.Contains(c.RedirectURIs, requested) {
		return requested, true
	}
	return "", false
}

// withQuery returns uri with params added to its query, keeping the query
// it has (RFC 6749 §3.1.2: it "MUST be retained").
func withQuery(uri string, params url.Values) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
		if strings.HasSuffix(uri, "?") || strings.HasSuffix(uri, "&") {
			sep = ""
		}
	}
	return uri + sep + params.Encode()
}
