package demo

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
)

// PrintWelcome writes what a user needs to try the server: its URLs, a curl
// command that refreshes the first configured grant (for the default
// configuration: the SMART launcher's seed exchange, Basic auth and form
// body), and one that reads the patient in context with the access token it
// returns. The refresh token rotates: the printed one works once per start
// of an in-memory server; the response carries the next one.
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
	if len(cfg.Grants) == 0 {
		return
	}
	g := cfg.Grants[0]
	auth, form := clientCredentials(cfg, g.ClientID)
	form.Set("grant_type", "refresh_token")
	form.Set("refresh_token", g.RefreshToken)
	fmt.Fprintf(w, "Refresh the configured grant of %s (the refresh token rotates: it works once):\n\n", g.ClientID)
	fmt.Fprintf(w, "  RESPONSE=$(curl -s '%s' -H 'Content-Type: application/x-www-form-urlencoded' -H 'Accept: application/json'%s --data '%s')\n",
		s.TokenURL, auth, form.Encode())
	fmt.Fprintf(w, "  echo \"$RESPONSE\"\n\n")
	fmt.Fprintf(w, "Then read the patient in context with the access token it returned:\n\n")
	fmt.Fprintf(w, "  ACCESS_TOKEN=$(printf '%%s' \"$RESPONSE\" | sed -n 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/p')\n")
	var patient struct {
		Patient string `json:"patient"`
	}
	_ = jsonUnmarshal(g.Launch, &patient)
	target := s.FHIRBaseURL + "/Patient"
	if patient.Patient != "" {
		target += "/" + patient.Patient
	}
	fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $ACCESS_TOKEN\" '%s'\n\n", target)
}

// clientCredentials returns the curl arguments authenticating clientID the
// way it is registered, and the form parameters it needs.
func clientCredentials(cfg *Config, clientID string) (string, url.Values) {
	form := url.Values{}
	for _, c := range cfg.Clients {
		if c.ClientID != clientID {
			continue
		}
		switch c.AuthMethod {
		case "client_secret_basic":
			if c.ClientSecret != "" {
				cred := url.QueryEscape(c.ClientID) + ":" + url.QueryEscape(c.ClientSecret)
				return " -H 'Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(cred)) + "'", form
			}
		case "client_secret_post":
			form.Set("client_id", c.ClientID)
			if c.ClientSecret != "" {
				form.Set("client_secret", c.ClientSecret)
			}
			return "", form
		}
	}
	form.Set("client_id", clientID)
	return "", form
}
