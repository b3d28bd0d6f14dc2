package authserver

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// InteractionKeySize is the size of AuthorizationConfig.InteractionKey:
// an AES-256 key.
const InteractionKeySize = 32

// maxSealedSize bounds the InteractionField value accepted.
const maxSealedSize = 32 << 10

// interactionAAD binds sealed values to their use.
var interactionAAD = []byte("smartauth/authorize/interaction/v1")

// Errors of opening an interaction; shown, never redirected.
var (
	errInteractionInvalid = errors.New("authserver: interaction field not sealed by this endpoint")
	errInteractionBrowser = errors.New("authserver: interaction started in another browser")
)

// The steps, as recorded in interactionState.Step.
const (
	stepLogin   = "login"
	stepPatient = "patient"
	stepConsent = "consent"
)

// interactionState is an authorization in progress: the validated request
// and the steps' answers so far. It is sealed into the InteractionField
// of each step's page, and never kept on the server.
type interactionState struct {
	// ID identifies the authorization: its completion is recorded once
	// (UseOnce) under it.
	ID string `json:"id"`
	// Bind is the SHA-256 of the browser's binding cookie, base64url.
	Bind string `json:"bind"`
	// Expires is when the authorization must be over, in Unix
	// milliseconds.
	Expires int64 `json:"exp"`
	// Step is the step whose page the user is answering.
	Step string `json:"step,omitempty"`
	// Req is the authorization request.
	Req authorizationRequest `json:"req"`
	// User is Login's answer, once given.
	User *sealedUser `json:"user,omitempty"`
	// Picked reports that the PatientPicker answered.
	Picked bool `json:"picked,omitempty"`
	// Launch is the launch context so far.
	Launch Launch `json:"launch"`
}

// authorizationRequest is a validated authorization request.
type authorizationRequest struct {
	ClientID string `json:"client_id"`
	// RedirectURI is where the answer goes; RedirectGiven reports that
	// the request named it (RFC 6749 §4.1.3: the token request must
	// then repeat it).
	RedirectURI   string `json:"redirect_uri"`
	RedirectGiven bool   `json:"redirect_given,omitempty"`
	State         string `json:"state"`
	CodeChallenge string `json:"code_challenge"`
	Nonce         string `json:"nonce,omitempty"`
	Scope         string `json:"scope"`
	// EHR reports an EHR launch; LaunchSubject is the user the EHR
	// registered the launch for, if any.
	EHR           bool   `json:"ehr,omitempty"`
	LaunchSubject string `json:"launch_sub,omitempty"`
}

// sealedUser is a User as sealed.
type sealedUser struct {
	Subject  string `json:"sub"`
	FHIRUser string `json:"fhirUser,omitempty"`
	AuthTime int64  `json:"auth_time"` // Unix milliseconds
}

func (u *sealedUser) user() User {
	if u == nil {
		return User{}
	}
	return User{Subject: u.Subject, FHIRUser: u.FHIRUser, AuthTime: time.UnixMilli(u.AuthTime)}
}

// sealer encrypts and authenticates interaction states (AES-256-GCM with
// a random nonce per value).
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (sealer, error) {
	if len(key) != InteractionKeySize {
		return sealer{}, fmt.Errorf("authserver: the interaction key must be %d bytes", InteractionKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealer{}, fmt.Errorf("authserver: interaction key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, fmt.Errorf("authserver: interaction key: %w", err)
	}
	return sealer{aead: aead}, nil
}

// seal returns st encrypted, base64url.
func (s sealer) seal(st *interactionState) (string, error) {
	plain, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("authserver: encoding interaction: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, interactionAAD)), nil
}

// open decrypts a sealed value; any failure is errInteractionInvalid.
func (s sealer) open(sealed string) (*interactionState, error) {
	if len(sealed) > maxSealedSize {
		return nil, errInteractionInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return nil, errInteractionInvalid
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], interactionAAD)
	if err != nil {
		return nil, errInteractionInvalid
	}
	var st interactionState
	if err := json.Unmarshal(plain, &st); err != nil {
		return nil, errInteractionInvalid
	}
	return &st, nil
}

// bindingCookieLen is the length of a binding cookie value: 32 random
// bytes, base64url.
var bindingCookieLen = base64.RawURLEncoding.EncodedLen(32)

// browserCookie describes the cookie that binds an authorization to the
// browser that started it.
type browserCookie struct {
	name   string
	path   string
	secure bool
	maxAge time.Duration
}

// newBrowserCookie returns the binding cookie of an endpoint at path:
// "__Secure-smartauth-authz" over https, "smartauth-authz" otherwise
// (loopback development).
func newBrowserCookie(path string, secure bool, maxAge time.Duration) browserCookie {
	name := "smartauth-authz"
	if secure {
		name = "__Secure-" + name
	}
	if path == "" {
		path = "/"
	}
	return browserCookie{name: name, path: path, secure: secure, maxAge: maxAge}
}

// bind returns the binding of the browser of r: the hash of its cookie,
// which it sets (anew, or again to extend it) on w.
func (c browserCookie) bind(w http.ResponseWriter, r *http.Request) string {
	value := c.value(r)
	if value == "" {
		var b [32]byte
		_, _ = rand.Read(b[:])
		value = base64.RawURLEncoding.EncodeToString(b[:])
	}
	http.SetCookie(w, &http.Cookie{
		Name:     c.name,
		Value:    value,
		Path:     c.path,
		MaxAge:   int(c.maxAge / time.Second),
		Secure:   c.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	return bindingHash(value)
}

// check reports whether r comes from the browser whose binding is bind.
func (c browserCookie) check(r *http.Request, bind string) bool {
	value := c.value(r)
	return value != "" && subtle.ConstantTimeCompare([]byte(bindingHash(value)), []byte(bind)) == 1
}

// value returns the well-formed binding cookie of r, or "".
func (c browserCookie) value(r *http.Request) string {
	ck, err := r.Cookie(c.name)
	if err != nil || len(ck.Value) != bindingCookieLen {
		return ""
	}
	if _, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil {
		return ""
	}
	return ck.Value
}

func bindingHash(value string) string {
	sum := sha256.Sum256([]byte(value))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
