package authserver

import (
	"net/http"
	"strconv"
	"time"
)

// JWKSMaxAge is how long JWK Set responses may be cached (Cache-Control
// max-age): short, so that verifiers see a newly published key within
// minutes. The key rotation procedure (see KeySet.SetKeys) waits at least
// this long between publishing a key and making it active.
const JWKSMaxAge = 5 * time.Minute

// JWKSHandler returns the handler of the JWK Set URL (jwks_uri): it answers
// GET and HEAD with the published public keys (PublicJWKS) as
// application/json, cacheable for JWKSMaxAge, readable from any
// origin (Access-Control-Allow-Origin: *). OPTIONS gets 204; other methods
// 405.
func (ks *KeySet) JWKSHandler() http.Handler {
	cacheControl := "public, max-age=" + strconv.FormatInt(int64(JWKSMaxAge/time.Second), 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodOptions:
			h.Set("Allow", "GET, HEAD, OPTIONS")
			h.Set("Access-Control-Allow-Methods", "GET, HEAD")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			h.Set("Allow", "GET, HEAD, OPTIONS")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		body, err := ks.PublicJWKS()
		if err != nil {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", cacheControl)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}
