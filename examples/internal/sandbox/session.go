package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sessionCookie is the demo EHR's sign-in session.
const sessionCookie = "sandbox-session"

// sessionLifetime is how long a sign-in lasts.
const sessionLifetime = 8 * time.Hour

// session is a signed sign-in: subject and sign-in time, with an
// HMAC-SHA256 of both under the sandbox's key.
type session struct {
	key    []byte
	secure bool
	now    func() time.Time
}

// set signs subject in, as of now.
func (s session) set(w http.ResponseWriter, subject string) {
	at := strconv.FormatInt(s.now().Unix(), 10)
	payload := base64.RawURLEncoding.EncodeToString([]byte(subject)) + "." + at
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: payload + "." + s.mac(payload), Path: "/",
		MaxAge: int(sessionLifetime / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// get returns the signed-in subject and when they signed in.
func (s session) get(r *http.Request) (string, time.Time, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", time.Time{}, false
	}
	i := strings.LastIndexByte(c.Value, '.')
	if i < 0 {
		return "", time.Time{}, false
	}
	payload, mac := c.Value[:i], c.Value[i+1:]
	if !hmac.Equal([]byte(mac), []byte(s.mac(payload))) {
		return "", time.Time{}, false
	}
	sub, at, _ := strings.Cut(payload, ".")
	subject, err := base64.RawURLEncoding.DecodeString(sub)
	unix, err2 := strconv.ParseInt(at, 10, 64)
	if err != nil || err2 != nil {
		return "", time.Time{}, false
	}
	signedIn := time.Unix(unix, 0)
	if !s.now().Before(signedIn.Add(sessionLifetime)) {
		return "", time.Time{}, false
	}
	return string(subject), signedIn, true
}

func (s session) mac(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
