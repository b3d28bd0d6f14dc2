package smarttest

import (
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smartauth/smartauth/middleware"
)

// Claims chooses what a minted token carries. Zero fields are left out,
// except the registered claims, which get defaults.
type Claims struct {
	// Scope is the space-separated scope, e.g. "patient/*.rs launch/patient".
	Scope string
	// Patient, Encounter, FHIRContext, FHIRUser, NeedPatientBanner,
	// SmartStyleURL, Intent and Tenant are the SMART launch context.
	Patient           string
	Encounter         string
	FHIRContext       []middleware.FHIRContextItem
	FHIRUser          string
	NeedPatientBanner bool
	SmartStyleURL     string
	Intent            string
	Tenant            string
	// Subject is sub (default "smarttest-user").
	Subject string
	// ClientID is client_id (default DefaultClientID).
	ClientID string
	// GrantID is grant_id (the token family), for revocation tests.
	GrantID string
	// ExpiresIn is the lifetime from the issuer's clock (default
	// DefaultLifetime); negative values mint expired tokens.
	ExpiresIn time.Duration
	// Extra claims are added as they are (and override the above).
	Extra map[string]any
}

func (c Claims) mapClaims(i *Issuer) jwt.MapClaims {
	now := i.now()
	life := c.ExpiresIn
	if life == 0 {
		life = DefaultLifetime
	}
	var jti [12]byte
	_, _ = rand.Read(jti[:])
	m := jwt.MapClaims{
		"iss":       i.URL,
		"aud":       i.Audience,
		"sub":       orDefault(c.Subject, "smarttest-user"),
		"client_id": orDefault(c.ClientID, DefaultClientID),
		"iat":       now.Unix(),
		"exp":       now.Add(life).Unix(),
		"jti":       base64.RawURLEncoding.EncodeToString(jti[:]),
	}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("scope", c.Scope)
	set("patient", c.Patient)
	set("encounter", c.Encounter)
	set("fhirUser", c.FHIRUser)
	set("smart_style_url", c.SmartStyleURL)
	set("intent", c.Intent)
	set("tenant", c.Tenant)
	set("grant_id", c.GrantID)
	if c.NeedPatientBanner {
		m["need_patient_banner"] = true
	}
	if len(c.FHIRContext) > 0 {
		m["fhirContext"] = c.FHIRContext
	}
	for k, v := range c.Extra {
		m[k] = v
	}
	return m
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
