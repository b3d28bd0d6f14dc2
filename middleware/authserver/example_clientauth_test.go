package authserver_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/smartauth/smartauth/middleware/authserver"
	"github.com/smartauth/smartauth/tokenstore"
)

func ExampleNewClientAuthenticator() {
	// Register clients. Only a hash of each secret is kept.
	clients, err := authserver.NewStaticClients(
		authserver.Client{
			ID:         "lab-monitor",
			AuthMethod: authserver.AuthClientSecretBasic,
			SecretHash: authserver.HashSecret("n8Qz-2vK_7pLw0Yx4sT1uR6m"),
		},
		authserver.Client{ID: "patient-app", AuthMethod: authserver.AuthNone},
		authserver.Client{
			ID:         "bili-monitor",
			AuthMethod: authserver.AuthPrivateKeyJWT,
			JWKSURL:    "https://bili-monitor.example.com/.well-known/jwks.json",
		},
	)
	if err != nil {
		log.Fatal(err)
	}
	auth, err := authserver.NewClientAuthenticator(authserver.ClientAuthConfig{
		Clients:       clients,
		TokenEndpoint: "https://ehr.example.com/auth/token",
		Replay:        tokenstore.NewMemoryStore(tokenstore.MemoryOptions{}), // shared store in production
	})
	if err != nil {
		log.Fatal(err)
	}

	// An endpoint that needs an authenticated client.
	endpoint := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, oerr := authserver.ReadForm(w, r, 64<<10) // POST, form-encoded, capped, no repeated parameters
		if oerr != nil {
			authserver.WriteError(w, oerr)
			return
		}
		client, err := auth.Authenticate(r.Context(), r, form)
		if err != nil {
			var e *authserver.Error
			errors.As(err, &e)
			authserver.WriteError(w, e)
			return
		}
		fmt.Fprintf(w, "hello %s", client.ID)
	})

	call := func(form url.Values, id, secret string) {
		r := httptest.NewRequest(http.MethodPost, "/auth/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id != "" {
			r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		}
		w := httptest.NewRecorder()
		endpoint.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), strings.TrimSpace(w.Body.String()))
	}
	call(url.Values{}, "lab-monitor", "n8Qz-2vK_7pLw0Yx4sT1uR6m")
	call(url.Values{}, "lab-monitor", "guess")
	call(url.Values{"client_id": {"patient-app"}}, "", "")
	call(url.Values{"client_id": {"lab-monitor"}}, "", "")
	call(url.Values{"client_secret": {"x"}}, "lab-monitor", "n8Qz-2vK_7pLw0Yx4sT1uR6m")
	fmt.Println(auth.AssertionAlgorithms()[:2])
	// Output:
	// 200  hello lab-monitor
	// 401 Basic realm="token", charset="UTF-8" {"error":"invalid_client","error_description":"client authentication failed"}
	// 200  hello patient-app
	// 401  {"error":"invalid_client","error_description":"client authentication failed"}
	// 400  {"error":"invalid_request","error_description":"more than one client authentication method"}
	// [RS384 ES384]
}
