package middleware

import (
	"sync"
	"time"

	"github.com/smartauth/smartauth/middleware/internal/jsonobject"
	"github.com/smartauth/smartauth/middleware/scope"
)

// LaunchContext is what a verified access token grants: the SMART launch
// context (patient, encounter, fhirContext, ...), who it was issued to and
// by, and its parsed scopes.
//
// Authenticate stores it in the request context; read it with
// LaunchContextFrom. It may be shared between requests and must be treated
// as read-only.
type LaunchContext struct {
	// Issuer is the token's iss.
	Issuer string
	// Subject is the token's sub.
	Subject string
	// ClientID is the client the token was issued to (client_id, or azp).
	ClientID string
	// Audience is the token's aud.
	Audience []string
	// IssuedAt is iat (zero if absent).
	IssuedAt time.Time
	// ExpiresAt is exp.
	ExpiresAt time.Time
	// TokenID is jti (empty if absent).
	TokenID string
	// GrantID identifies the token family (refresh-token grant) the token
	// was issued from, for revocation checks; empty if the token carries
	// none.
	GrantID string

	// Scopes are the granted scopes, parsed.
	Scopes scope.Set

	// Patient is the patient in context (launch/patient), a FHIR id.
	Patient string
	// Encounter is the encounter in context (launch/encounter), a FHIR id.
	Encounter string
	// FHIRContext lists further resources in context (SMART 2.x
	// fhirContext). v2.0 string entries are returned as items with only
	// Reference set.
	FHIRContext []FHIRContextItem
	// FHIRUser is the URL of the FHIR resource for the user (fhirUser).
	FHIRUser string
	// NeedPatientBanner is need_patient_banner.
	NeedPatientBanner bool
	// SmartStyleURL is smart_style_url.
	SmartStyleURL string
	// Intent is intent.
	Intent string
	// Tenant is tenant.
	Tenant string

	claims *rawClaims // nil: none
}

// rawClaims are the claims a LaunchContext was made from: a map, or the
// JSON payload of a verified JWT, decoded into a map by the first Claims
// call (most requests never ask, and decoding every claim of every token
// would cost more than the rest of the verification but the signature).
type rawClaims struct {
	once    sync.Once
	payload string // a JSON object; "" once decoded, or if m was given
	m       map[string]any
}

func (c *rawClaims) get() map[string]any {
	c.once.Do(func() {
		if c.payload == "" {
			return
		}
		// The JWT verifier read the payload with jsonobject.Members,
		// which succeeds exactly when this does.
		if v, err := jsonobject.Decode(c.payload); err == nil {
			c.m, _ = v.(map[string]any)
		}
		c.payload = ""
	})
	return c.m
}

// FHIRContextItem is one entry of the SMART fhirContext array. SMART 2.0
// used plain reference strings (returned here with only Reference set); 2.1
// added {reference, role}; 2.2 allows {reference | canonical | identifier,
// type, role}.
type FHIRContextItem struct {
	Reference  string      `json:"reference,omitempty"`
	Canonical  string      `json:"canonical,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Type       string      `json:"type,omitempty"`
	Role       string      `json:"role,omitempty"`
}

// Identifier is the subset of a FHIR Identifier that SMART fhirContext
// entries use.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Claims returns every claim of the token (or member of the introspection
// response) the LaunchContext was made from, as encoding/json decodes them
// into a map[string]any: numbers are float64, arrays []any, objects
// map[string]any. It is nil for a LaunchContext made otherwise. The map is
// shared and must not be modified.
func (lc *LaunchContext) Claims() map[string]any {
	if lc == nil || lc.claims == nil {
		return nil
	}
	return lc.claims.get()
}

// Claim returns one claim of Claims.
func (lc *LaunchContext) Claim(name string) (any, bool) {
	v, ok := lc.Claims()[name]
	return v, ok
}

// IsPatientInContext reports whether id is the patient in context. It is
// false if there is no patient in context. A "Patient/" prefix on id is
// accepted.
func (lc *LaunchContext) IsPatientInContext(id string) bool {
	if lc == nil || lc.Patient == "" {
		return false
	}
	if len(id) > len("Patient/") && id[:len("Patient/")] == "Patient/" {
		id = id[len("Patient/"):]
	}
	return id == lc.Patient
}
