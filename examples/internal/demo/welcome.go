package demo

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
)

// PrintWelcome writes what a user needs to try the server: its URLs, the
// demo credentials — the secret of the demo grant's client and the refresh
// token of s.DemoGrant, minted at this start so that it works whatever the
// store held before — as a REFRESH_TOKEN= line, and curl commands that
// refresh it (the SMART launcher's exchange: Basic auth, form body) and
// read the patient in context with the access token returned. The refresh
// token rotates: the printed one works once; the response carries the
// next one.
func PrintWelcome(w io.Writer, s *Server, cfg *Config) {
	fmt.Fprintf(w, "smartauth demo FHIR server\n\n")
	fmt.Fprintf(w, "  FHIR base        %s\n", s.FHIRBaseURL)
	fmt.Fprintf(w, "  discovery        %s\n", s.DiscoveryURL)
	fmt.Fprintf(w, "  token            %s\n", s.TokenURL)
	fmt.Fprintf(w, "  jwks             %s\n", s.JWKSURL)
	fmt.Fprintf(w, "  introspection    %s\n", s.IntrospectionURL)
	fmt.Fprintf(w, "  revocation       %s\n", s.RevocationURL)
	if s.AuthorizationURL != "" {
		fmt.Fprintf(w, "  authorization    %s\n", s.AuthorizationURL)
		fmt.Fprintf(w, "  launch page      %s\n", s.LauncherURL)
	}
	if s.AppURL != "" {
		fmt.Fprintf(w, "  sample app       %s\n", s.AppURL)
	}
	fmt.Fprintf(w, "\n")
	if s.LauncherURL != "" {
		fmt.Fprintf(w, "Launch an app: open %s in a browser (EHR or standalone launch).\n\n", s.LauncherURL)
	}
	g := s.DemoGrant
	if g == nil {
		return
	}
	cred := clientCredentials(cfg, g.ClientID)
	fmt.Fprintf(w, "Demo credentials: made up for this demo and valid only on this server. Never use them elsewhere.\n\n")
	fmt.Fprintf(w, "  client           %s\n", cred.describe())
	fmt.Fprintf(w, "  refresh token    of a grant of %s minted at this start (it rotates: each value works once)\n\n", g.ClientID)
	fmt.Fprintf(w, "REFRESH_TOKEN=%s\n\n", g.RefreshToken)

	form := cred.form()
	form.Set("grant_type", "refresh_token")
	form.Set("refresh_token", g.RefreshToken)
	fmt.Fprintf(w, "Refresh it, then read the patient in context with the access token returned:\n\n")
	fmt.Fprintf(w, "  RESPONSE=$(curl -s '%s'%s --data '%s')\n", s.TokenURL, cred.curlArgs(), form.Encode())
	fmt.Fprintf(w, "  printf '%%s\\n' \"$RESPONSE\"\n")
	fmt.Fprintf(w, "  ACCESS_TOKEN=$(printf '%%s' \"$RESPONSE\" | sed -n 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/p')\n")
	target := s.FHIRBaseURL + "/Patient"
	if g.Patient != "" {
		target += "/" + g.Patient
	}
	fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $ACCESS_TOKEN\" '%s'\n\n", target)
}

// credentials are how a configured client authenticates.
type credentials struct {
	id, method, secret string
}

// clientCredentials returns the credentials of clientID in cfg.
func clientCredentials(cfg *Config, clientID string) credentials {
	for _, c := range cfg.Clients {
		if c.ClientID == clientID {
			return credentials{id: c.ClientID, method: c.AuthMethod, secret: c.ClientSecret}
		}
	}
	return credentials{id: clientID}
}

// basic reports whether the client sends its secret with HTTP Basic.
func (c credentials) basic() bool { return c.method == "client_secret_basic" && c.secret != "" }

// basicHeader is the Authorization header value of a Basic client
// (RFC 6749 §2.3.1: each part form-encoded).
func (c credentials) basicHeader() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.id)+":"+url.QueryEscape(c.secret)))
}

func (c credentials) describe() string {
	switch {
	case c.basic():
		return fmt.Sprintf("%s, secret %s, sent with HTTP Basic: Authorization: %s", c.id, c.secret, c.basicHeader())
	case c.method == "client_secret_post" && c.secret != "":
		return fmt.Sprintf("%s, secret %s, sent in the form body", c.id, c.secret)
	}
	return fmt.Sprintf("%s (%s)", c.id, c.method)
}

// curlArgs are the curl arguments authenticating a Basic client.
func (c credentials) curlArgs() string {
	if c.basic() {
		return " -H 'Authorization: " + c.basicHeader() + "'"
	}
	return ""
}

// form returns the form parameters that identify (and, for
// client_secret_post, authenticate) the client.
func (c credentials) form() url.Values {
	form := url.Values{}
	if c.basic() {
		return form
	}
	form.Set("client_id", c.id)
	if c.method == "client_secret_post" && c.secret != "" {
		form.Set("client_secret", c.secret)
	}
	return form
}
