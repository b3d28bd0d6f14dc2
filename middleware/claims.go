package middleware

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/smartauth/smartauth/middleware/scope"
)

// DefaultClaimNames returns the claim names used for the empty fields of a
// ClaimNames: the SMART App Launch names ("patient", "encounter",
// "fhirContext", ...) and "context" for the nested object.
func DefaultClaimNames() ClaimNames {
	return ClaimNames{
		Patient:           "patient",
		Encounter:         "encounter",
		FHIRContext:       "fhirContext",
		FHIRUser:          "fhirUser",
		NeedPatientBanner: "need_patient_banner",
		SmartStyleURL:     "smart_style_url",
		Intent:            "intent",
		Tenant:            "tenant",
		Scope:             "scope",
		ClientID:          "client_id",
		GrantID:           "grant_id",
		Nested:            "context",
	}
}

// withDefaults returns n with every empty field set to its default.
func (n ClaimNames) withDefaults() ClaimNames {
	d := DefaultClaimNames()
	set := func(f *string, def string) {
		if *f == "" {
			*f = def
		}
	}
	set(&n.Patient, d.Patient)
	set(&n.Encounter, d.Encounter)
	set(&n.FHIRContext, d.FHIRContext)
	set(&n.FHIRUser, d.FHIRUser)
	set(&n.NeedPatientBanner, d.NeedPatientBanner)
	set(&n.SmartStyleURL, d.SmartStyleURL)
	set(&n.Intent, d.Intent)
	set(&n.Tenant, d.Tenant)
	set(&n.Scope, d.Scope)
	set(&n.ClientID, d.ClientID)
	set(&n.GrantID, d.GrantID)
	set(&n.Nested, d.Nested)
	return n
}

// maxFHIRIDLength is the FHIR limit on the length of a resource id.
const maxFHIRIDLength = 64

// maxNumericDate is 9999-12-31T23:59:59Z, the largest iat/exp accepted.
const maxNumericDate = 253402300799

// NewLaunchContext returns the LaunchContext granted by claims: the
// verified claims of an access token, or the members of an introspection
// response, as encoding/json decodes them into a map[string]any. names
// says which claims hold the SMART context (empty fields: DefaultClaimNames).
//
// It is what the package's verifiers use, so a custom TokenVerifier — a
// VerifierFunc over another JWT library or a vendor SDK — grants the same
// launch context, with the same checks, as JWTVerifier does. It checks
// types and shapes only: the signature, issuer, audience and lifetime of
// the token are the caller's to check before. Any malformed value is an
// error wrapping ErrBadLaunchContext that names the claim, never its value;
// it never guesses (a numeric patient is an error, not a patient).
//
// The launch context values (patient, encounter, fhirContext, fhirUser,
// need_patient_banner, smart_style_url, intent, tenant) are read from the
// top level and, when absent there (or null), from the object claim
// names.Nested (default "context", where the SMART launcher puts them in
// refresh tokens). A Nested claim that is not an object is ignored. The
// token-level claims (iss, sub, aud, client_id/azp, scope, jti, grant_id,
// iat, exp) are read from the top level only.
//
// Accepted shapes:
//   - patient, encounter: a FHIR id (1-64 characters of A-Z a-z 0-9 - .).
//   - need_patient_banner: a JSON boolean, or exactly the string "true" or
//     "false" (some servers send strings; anything else is an error).
//   - fhirContext: an array whose items are reference strings (SMART 2.0)
//     or objects with exactly one of reference, canonical or identifier
//     ({system, value}), and optional type and role strings (2.1, 2.2).
//   - scope: a space-separated string, or an array of scope strings.
//   - aud: a string or an array of strings ([]any, or []string).
//   - iat, exp: numbers of seconds since the epoch (float64, json.Number,
//     int or int64; fractions truncated, 0 treated as absent, as
//     golang-jwt does).
//   - every other value: a string.
//
// No string may contain control characters. claims is kept, not copied,
// as the LaunchContext's Claims: do not modify it afterwards.
func NewLaunchContext(claims map[string]any, names ClaimNames) (*LaunchContext, error) {
	fields := names.withDefaults().fieldNames()
	var c claimValues
	for f, name := range fields {
		if v, ok := claims[name]; ok {
			c.set(claimField(f), v)
		}
	}
	lc, err := launchContextFromValues(&c, &fields)
	if err != nil {
		return nil, err
	}
	lc.claims = &rawClaims{m: claims}
	return lc, nil
}

// claimField is one claim a LaunchContext, or the JWT verifier, reads.
type claimField uint8

const (
	fieldIss claimField = iota
	fieldSub
	fieldAud
	fieldExp
	fieldNbf
	fieldIat
	fieldJti
	fieldAzp
	fieldClientID
	fieldGrantID
	fieldScope
	fieldNested
	// The launch context values: read at the top level, then in the
	// Nested object.
	fieldPatient
	fieldEncounter
	fieldFHIRContext
	fieldFHIRUser
	fieldNeedPatientBanner
	fieldSmartStyleURL
	fieldIntent
	fieldTenant
	numClaimFields
)

// claimFieldNames are the claim names of the fields under some ClaimNames.
type claimFieldNames = [numClaimFields]string

// fieldNames returns the claim name of each field; n must have its
// defaults applied.
func (n ClaimNames) fieldNames() claimFieldNames {
	return claimFieldNames{
		fieldIss:               "iss",
		fieldSub:               "sub",
		fieldAud:               "aud",
		fieldExp:               "exp",
		fieldNbf:               "nbf",
		fieldIat:               "iat",
		fieldJti:               "jti",
		fieldAzp:               "azp",
		fieldClientID:          n.ClientID,
		fieldGrantID:           n.GrantID,
		fieldScope:             n.Scope,
		fieldNested:            n.Nested,
		fieldPatient:           n.Patient,
		fieldEncounter:         n.Encounter,
		fieldFHIRContext:       n.FHIRContext,
		fieldFHIRUser:          n.FHIRUser,
		fieldNeedPatientBanner: n.NeedPatientBanner,
		fieldSmartStyleURL:     n.SmartStyleURL,
		fieldIntent:            n.Intent,
		fieldTenant:            n.Tenant,
	}
}

// claimValues are the values of the claim fields of one token, as decoded
// JSON (nil for absent and null alike; present tells them apart).
type claimValues struct {
	v       [numClaimFields]any
	present uint32         // bit f: field f is present, possibly null
	nested  map[string]any // the Nested claim, if it is an object
}

func (c *claimValues) set(f claimField, v any) {
	c.v[f] = v
	c.present |= 1 << f
	if f == fieldNested {
		c.nested, _ = v.(map[string]any) // a later non-object replaces an object
	}
}

func (c *claimValues) has(f claimField) bool { return c.present&(1<<f) != 0 }

// launch returns a launch context value: the top-level one, or if that is
// absent or null, the Nested object's.
func (c *claimValues) launch(f claimField, names *claimFieldNames) any {
	if v := c.v[f]; v != nil {
		return v
	}
	return c.nested[names[f]] // nil map: nil
}

// launchContextFromValues checks the values and builds the LaunchContext
// (without its raw claims) as NewLaunchContext documents.
func launchContextFromValues(c *claimValues, names *claimFieldNames) (*LaunchContext, error) {
	lc := &LaunchContext{}
	var err error

	// Token-level claims.
	if lc.Issuer, err = stringClaim(c.v[fieldIss], "iss"); err != nil {
		return nil, err
	}
	if lc.Subject, err = stringClaim(c.v[fieldSub], "sub"); err != nil {
		return nil, err
	}
	if lc.TokenID, err = stringClaim(c.v[fieldJti], "jti"); err != nil {
		return nil, err
	}
	if lc.GrantID, err = stringClaim(c.v[fieldGrantID], names[fieldGrantID]); err != nil {
		return nil, err
	}
	if v := c.v[fieldClientID]; v != nil {
		lc.ClientID, err = stringClaim(v, names[fieldClientID])
	} else {
		lc.ClientID, err = stringClaim(c.v[fieldAzp], "azp")
	}
	if err != nil {
		return nil, err
	}
	if lc.Audience, err = audienceClaim(c.v[fieldAud]); err != nil {
		return nil, err
	}
	if lc.IssuedAt, err = numericDateClaim(c.v[fieldIat], "iat"); err != nil {
		return nil, err
	}
	if lc.ExpiresAt, err = numericDateClaim(c.v[fieldExp], "exp"); err != nil {
		return nil, err
	}
	if lc.Scopes, err = scopeClaim(c.v[fieldScope], names[fieldScope]); err != nil {
		return nil, err
	}

	// Launch context.
	if lc.Patient, err = fhirIDClaim(c.launch(fieldPatient, names), names[fieldPatient]); err != nil {
		return nil, err
	}
	if lc.Encounter, err = fhirIDClaim(c.launch(fieldEncounter, names), names[fieldEncounter]); err != nil {
		return nil, err
	}
	if lc.FHIRContext, err = fhirContextClaim(c.launch(fieldFHIRContext, names), names[fieldFHIRContext]); err != nil {
		return nil, err
	}
	if lc.FHIRUser, err = stringClaim(c.launch(fieldFHIRUser, names), names[fieldFHIRUser]); err != nil {
		return nil, err
	}
	if lc.NeedPatientBanner, err = boolClaim(c.launch(fieldNeedPatientBanner, names), names[fieldNeedPatientBanner]); err != nil {
		return nil, err
	}
	if lc.SmartStyleURL, err = stringClaim(c.launch(fieldSmartStyleURL, names), names[fieldSmartStyleURL]); err != nil {
		return nil, err
	}
	if lc.Intent, err = stringClaim(c.launch(fieldIntent, names), names[fieldIntent]); err != nil {
		return nil, err
	}
	if lc.Tenant, err = stringClaim(c.launch(fieldTenant, names), names[fieldTenant]); err != nil {
		return nil, err
	}
	return lc, nil
}

func badClaim(name, problem string) error {
	return fmt.Errorf("%w: claim %q %s", ErrBadLaunchContext, name, problem)
}

// stringClaim returns v as a string; nil (absent or null) is "".
func stringClaim(v any, name string) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		if hasControl(s) {
			return "", badClaim(name, "contains control characters")
		}
		return s, nil
	default:
		return "", badClaim(name, "is not a string")
	}
}

// fhirIDClaim returns v as a FHIR resource id; nil is "".
func fhirIDClaim(v any, name string) (string, error) {
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", badClaim(name, "is not a string")
	}
	if !isFHIRID(s) {
		return "", badClaim(name, "is not a FHIR id")
	}
	return s, nil
}

// isFHIRID reports whether s matches the FHIR id grammar
// [A-Za-z0-9\-\.]{1,64}.
func isFHIRID(s string) bool {
	if len(s) == 0 || len(s) > maxFHIRIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// boolClaim returns v as a bool: a JSON boolean or exactly "true"/"false".
func boolClaim(v any, name string) (bool, error) {
	switch b := v.(type) {
	case nil:
		return false, nil
	case bool:
		return b, nil
	case string:
		switch b {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, badClaim(name, "is not a boolean")
}

// audienceClaim returns aud as a list: a string or an array of strings.
func audienceClaim(v any) ([]string, error) {
	switch a := v.(type) {
	case nil:
		return nil, nil
	case string:
		if hasControl(a) {
			return nil, badClaim("aud", "contains control characters")
		}
		return []string{a}, nil
	case []any:
		out := make([]string, 0, len(a))
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return nil, badClaim("aud", "is not a string or an array of strings")
			}
			if hasControl(s) {
				return nil, badClaim("aud", "contains control characters")
			}
			out = append(out, s)
		}
		return out, nil
	case []string:
		for _, s := range a {
			if hasControl(s) {
				return nil, badClaim("aud", "contains control characters")
			}
		}
		return a, nil
	default:
		return nil, badClaim("aud", "is not a string or an array of strings")
	}
}

// scopeClaim parses a space-separated scope string or an array of scopes.
func scopeClaim(v any, name string) (scope.Set, error) {
	switch s := v.(type) {
	case nil:
		return scope.Set{}, nil
	case string:
		if hasControl(s) {
			return scope.Set{}, badClaim(name, "contains control characters")
		}
		return scope.Parse(s), nil
	case []any:
		var b strings.Builder
		for i, e := range s {
			str, ok := e.(string)
			if !ok {
				return scope.Set{}, badClaim(name, "is not a string or an array of strings")
			}
			if str == "" || strings.ContainsRune(str, ' ') || hasControl(str) {
				return scope.Set{}, badClaim(name, "has an item that is not a single scope")
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(str)
		}
		return scope.Parse(b.String()), nil
	default:
		return scope.Set{}, badClaim(name, "is not a string or an array of strings")
	}
}

// numericDateClaim converts a JWT NumericDate (seconds since the epoch) to
// a time. nil and 0 are the zero time; fractions of a second are truncated.
func numericDateClaim(v any, name string) (time.Time, error) {
	var f float64
	switch x := v.(type) {
	case nil:
		return time.Time{}, nil
	case float64:
		f = x
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return time.Time{}, badClaim(name, "is not a number")
		}
	case int64:
		f = float64(x)
	case int:
		f = float64(x)
	default:
		return time.Time{}, badClaim(name, "is not a number")
	}
	if math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, badClaim(name, "is out of range")
	}
	if f == 0 {
		return time.Time{}, nil
	}
	return time.Unix(int64(f), 0).UTC(), nil
}

// fhirContextClaim parses the SMART fhirContext array.
func fhirContextClaim(v any, name string) ([]FHIRContextItem, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, badClaim(name, "is not an array")
	}
	items := make([]FHIRContextItem, 0, len(list))
	for _, e := range list {
		var item FHIRContextItem
		switch x := e.(type) {
		case string: // SMART 2.0: a relative reference.
			if x == "" || hasControl(x) {
				return nil, badClaim(name, "has an invalid reference")
			}
			item.Reference = x
		case map[string]any: // SMART 2.1, 2.2.
			var err error
			if item, err = fhirContextObject(x, name); err != nil {
				return nil, err
			}
		default:
			return nil, badClaim(name, "has an item that is neither a string nor an object")
		}
		items = append(items, item)
	}
	return items, nil
}

func fhirContextObject(m map[string]any, name string) (FHIRContextItem, error) {
	var item FHIRContextItem
	var err error
	if item.Reference, err = memberString(m, "reference", name); err != nil {
		return item, err
	}
	if item.Canonical, err = memberString(m, "canonical", name); err != nil {
		return item, err
	}
	if item.Type, err = memberString(m, "type", name); err != nil {
		return item, err
	}
	if item.Role, err = memberString(m, "role", name); err != nil {
		return item, err
	}
	if v, ok := m["identifier"]; ok && v != nil {
		id, ok := v.(map[string]any)
		if !ok {
			return item, badClaim(name, "has an item whose identifier is not an object")
		}
		var ident Identifier
		if ident.System, err = stringClaim(id["system"], name+".identifier.system"); err != nil {
			return item, err
		}
		if ident.Value, err = stringClaim(id["value"], name+".identifier.value"); err != nil {
			return item, err
		}
		if ident.System == "" && ident.Value == "" {
			return item, badClaim(name, "has an item with an empty identifier")
		}
		item.Identifier = &ident
	}
	set := 0
	if item.Reference != "" {
		set++
	}
	if item.Canonical != "" {
		set++
	}
	if item.Identifier != nil {
		set++
	}
	if set != 1 {
		return item, badClaim(name, "has an item without exactly one of reference, canonical, identifier")
	}
	return item, nil
}

// memberString returns member of a fhirContext object: absent or null is
// "", otherwise it must be a non-empty string.
func memberString(m map[string]any, member, name string) (string, error) {
	v := m[member]
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok || s == "" || hasControl(s) {
		return "", badClaim(name, "has an item whose "+member+" is not a non-empty string")
	}
	return s, nil
}

// hasControl reports whether s contains a control character: C0 (below
// U+0020), DEL, or C1 (U+0080 to U+009F, encoded as 0xC2 0x80-0x9F).
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x20 && c < 0x7f: // printable ASCII, the common case
		case c < 0x20, c == 0x7f:
			return true
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			return true
		}
	}
	return false
}
