package middleware

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decodeClaimsJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

func TestNewLaunchContext(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		names   ClaimNames
		want    *LaunchContext // claims and Scopes are checked separately
		scopes  string
		wantErr bool
	}{
		{
			name: "all claims",
			json: `{"iss":"https://as","sub":"u1","aud":["https://fhir","other"],"client_id":"app","jti":"j1",
				"grant_id":"g1","iat":1700000000,"exp":1700003600.9,"scope":"launch patient/*.rs",
				"patient":"p-1.2","encounter":"E9","fhirUser":"Practitioner/7","need_patient_banner":false,
				"smart_style_url":"https://ehr/style.json","intent":"reconcile","tenant":"t-1"}`,
			want: &LaunchContext{Issuer: "https://as", Subject: "u1", Audience: []string{"https://fhir", "other"},
				ClientID: "app", TokenID: "j1", GrantID: "g1",
				IssuedAt: time.Unix(1700000000, 0).UTC(), ExpiresAt: time.Unix(1700003600, 0).UTC(),
				Patient: "p-1.2", Encounter: "E9", FHIRUser: "Practitioner/7", SmartStyleURL: "https://ehr/style.json",
				Intent: "reconcile", Tenant: "t-1"},
			scopes: "launch patient/*.rs",
		},
		{name: "empty", json: `{}`, want: &LaunchContext{}},
		{name: "nulls are absent", json: `{"patient":null,"aud":null,"scope":null,"fhirContext":null,"exp":null}`, want: &LaunchContext{}},
		{name: "aud string", json: `{"aud":"https://fhir"}`, want: &LaunchContext{Audience: []string{"https://fhir"}}},
		{name: "azp fallback", json: `{"azp":"app2"}`, want: &LaunchContext{ClientID: "app2"}},
		{name: "client_id wins over azp", json: `{"azp":"app2","client_id":"app1"}`, want: &LaunchContext{ClientID: "app1"}},
		{name: "scope array", json: `{"scope":["openid","patient/Observation.rs"]}`, want: &LaunchContext{}, scopes: "openid patient/Observation.rs"},
		{name: "banner string true", json: `{"need_patient_banner":"true"}`, want: &LaunchContext{NeedPatientBanner: true}},
		{name: "banner string false", json: `{"need_patient_banner":"false"}`, want: &LaunchContext{}},
		{
			name: "nested context",
			json: `{"context":{"patient":"np","encounter":"ne","need_patient_banner":true,"smart_style_url":"https://s","fhirContext":["Appointment/1"]}}`,
			want: &LaunchContext{Patient: "np", Encounter: "ne", NeedPatientBanner: true, SmartStyleURL: "https://s",
				FHIRContext: []FHIRContextItem{{Reference: "Appointment/1"}}},
		},
		{name: "top level wins over nested", json: `{"patient":"top","context":{"patient":"nested","encounter":"ne"}}`,
			want: &LaunchContext{Patient: "top", Encounter: "ne"}},
		{name: "null top level falls back to nested", json: `{"patient":null,"context":{"patient":"nested"}}`,
			want: &LaunchContext{Patient: "nested"}},
		{name: "nested context not an object is ignored", json: `{"context":"something else","patient":"p"}`,
			want: &LaunchContext{Patient: "p"}},
		{name: "token-level claims are not read from nested", json: `{"context":{"scope":"openid","client_id":"x","iss":"y"}}`,
			want: &LaunchContext{}},
		{
			name:  "custom names",
			json:  `{"pt":"p1","ctx":{"enc":"e1"},"scp":"a b","cid":"c"}`,
			names: ClaimNames{Patient: "pt", Encounter: "enc", Nested: "ctx", Scope: "scp", ClientID: "cid"},
			want:  &LaunchContext{Patient: "p1", Encounter: "e1", ClientID: "c"}, scopes: "a b",
		},
		{
			name: "fhirContext v2.0, v2.1, v2.2",
			json: `{"fhirContext":["DiagnosticReport/123",
				{"reference":"Observation/1","role":"https://example.org/role"},
				{"canonical":"http://example.org/Questionnaire/q|1.0","type":"Questionnaire"},
				{"identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:1"},"type":"ServiceRequest"},
				{"reference":"Patient/other","role":"https://example.org/mother","unknown":1}]}`,
			want: &LaunchContext{FHIRContext: []FHIRContextItem{
				{Reference: "DiagnosticReport/123"},
				{Reference: "Observation/1", Role: "https://example.org/role"},
				{Canonical: "http://example.org/Questionnaire/q|1.0", Type: "Questionnaire"},
				{Identifier: &Identifier{System: "urn:ietf:rfc:3986", Value: "urn:uuid:1"}, Type: "ServiceRequest"},
				{Reference: "Patient/other", Role: "https://example.org/mother"},
			}},
		},
		{name: "fhirContext empty", json: `{"fhirContext":[]}`, want: &LaunchContext{FHIRContext: []FHIRContextItem{}}},
		{name: "patient id of 64 characters", json: `{"patient":"` + strings.Repeat("a", 64) + `"}`, want: &LaunchContext{Patient: strings.Repeat("a", 64)}},
		{name: "unicode in strings", json: `{"intent":"überprüfen"}`, want: &LaunchContext{Intent: "überprüfen"}},

		// Malformed values are errors, never a guess.
		{name: "patient number", json: `{"patient":123}`, wantErr: true},
		{name: "patient empty", json: `{"patient":""}`, wantErr: true},
		{name: "patient array", json: `{"patient":["p1"]}`, wantErr: true},
		{name: "patient reference", json: `{"patient":"Patient/123"}`, wantErr: true},
		{name: "patient with space", json: `{"patient":"12 3"}`, wantErr: true},
		{name: "patient with query", json: `{"patient":"123&_id=456"}`, wantErr: true},
		{name: "patient with newline", json: `{"patient":"123\n"}`, wantErr: true},
		{name: "patient too long", json: `{"patient":"` + strings.Repeat("a", 65) + `"}`, wantErr: true},
		{name: "nested patient number", json: `{"context":{"patient":1}}`, wantErr: true},
		{name: "encounter object", json: `{"encounter":{"id":"e"}}`, wantErr: true},
		{name: "banner number", json: `{"need_patient_banner":1}`, wantErr: true},
		{name: "banner string yes", json: `{"need_patient_banner":"yes"}`, wantErr: true},
		{name: "banner string TRUE", json: `{"need_patient_banner":"TRUE"}`, wantErr: true},
		{name: "fhirContext string", json: `{"fhirContext":"Appointment/1"}`, wantErr: true},
		{name: "fhirContext number item", json: `{"fhirContext":[1]}`, wantErr: true},
		{name: "fhirContext empty string item", json: `{"fhirContext":[""]}`, wantErr: true},
		{name: "fhirContext empty object", json: `{"fhirContext":[{}]}`, wantErr: true},
		{name: "fhirContext role only", json: `{"fhirContext":[{"role":"r"}]}`, wantErr: true},
		{name: "fhirContext reference and canonical", json: `{"fhirContext":[{"reference":"A/1","canonical":"http://c"}]}`, wantErr: true},
		{name: "fhirContext reference and identifier", json: `{"fhirContext":[{"reference":"A/1","identifier":{"value":"v"}}]}`, wantErr: true},
		{name: "fhirContext reference number", json: `{"fhirContext":[{"reference":1}]}`, wantErr: true},
		{name: "fhirContext reference empty", json: `{"fhirContext":[{"reference":""}]}`, wantErr: true},
		{name: "fhirContext type number", json: `{"fhirContext":[{"reference":"A/1","type":1}]}`, wantErr: true},
		{name: "fhirContext role array", json: `{"fhirContext":[{"reference":"A/1","role":["r"]}]}`, wantErr: true},
		{name: "fhirContext identifier string", json: `{"fhirContext":[{"identifier":"urn:x"}]}`, wantErr: true},
		{name: "fhirContext identifier empty", json: `{"fhirContext":[{"identifier":{}}]}`, wantErr: true},
		{name: "fhirContext identifier value number", json: `{"fhirContext":[{"identifier":{"value":1}}]}`, wantErr: true},
		{name: "scope number", json: `{"scope":42}`, wantErr: true},
		{name: "scope array with number", json: `{"scope":["a",1]}`, wantErr: true},
		{name: "scope array item with space", json: `{"scope":["a b"]}`, wantErr: true},
		{name: "scope array empty item", json: `{"scope":[""]}`, wantErr: true},
		{name: "scope with control", json: `{"scope":"a\u0000b"}`, wantErr: true},
		{name: "aud number", json: `{"aud":1}`, wantErr: true},
		{name: "aud array with number", json: `{"aud":["a",1]}`, wantErr: true},
		{name: "client_id number", json: `{"client_id":1}`, wantErr: true},
		{name: "azp number", json: `{"azp":1}`, wantErr: true},
		{name: "sub bool", json: `{"sub":true}`, wantErr: true},
		{name: "iss array", json: `{"iss":["a"]}`, wantErr: true},
		{name: "jti number", json: `{"jti":1}`, wantErr: true},
		{name: "grant_id number", json: `{"grant_id":1}`, wantErr: true},
		{name: "fhirUser number", json: `{"fhirUser":1}`, wantErr: true},
		{name: "smart_style_url with CRLF", json: `{"smart_style_url":"https://s\r\nX: y"}`, wantErr: true},
		{name: "intent with C1 control", json: `{"intent":"a\u0085b"}`, wantErr: true},
		{name: "tenant number", json: `{"tenant":1}`, wantErr: true},
		{name: "exp string", json: `{"exp":"1700000000"}`, wantErr: true},
		{name: "exp negative", json: `{"exp":-1}`, wantErr: true},
		{name: "exp beyond year 9999", json: `{"exp":1e15}`, wantErr: true},
		{name: "iat bool", json: `{"iat":true}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := decodeClaimsJSON(t, tt.json)
			lc, err := NewLaunchContext(claims, tt.names)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrBadLaunchContext)
				assert.Nil(t, lc)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.scopes, lc.Scopes.String())
			assert.Equal(t, claims, lc.Claims())
			got := *lc
			got.Scopes, got.claims = tt.want.Scopes, nil
			assert.Equal(t, *tt.want, got)
		})
	}
}

func TestNewLaunchContextProgrammaticTypes(t *testing.T) {
	// Callers that build the map themselves (or decode with UseNumber).
	lc, err := NewLaunchContext(map[string]any{
		"aud": []string{"a", "b"}, "exp": json.Number("1700000000"), "iat": int64(1600000000),
	}, ClaimNames{})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, lc.Audience)
	assert.Equal(t, time.Unix(1700000000, 0).UTC(), lc.ExpiresAt)
	assert.Equal(t, time.Unix(1600000000, 0).UTC(), lc.IssuedAt)

	_, err = NewLaunchContext(map[string]any{"exp": json.Number("x")}, ClaimNames{})
	require.ErrorIs(t, err, ErrBadLaunchContext)

	lc, err = NewLaunchContext(nil, ClaimNames{})
	require.NoError(t, err)
	assert.Equal(t, "", lc.Patient)
}

func TestLaunchContextErrorsNameClaimNotValue(t *testing.T) {
	_, err := NewLaunchContext(decodeClaimsJSON(t, `{"patient":"secret value with spaces"}`), ClaimNames{})
	require.ErrorIs(t, err, ErrBadLaunchContext)
	assert.Contains(t, err.Error(), `"patient"`)
	assert.NotContains(t, err.Error(), "secret")
}

func TestDefaultClaimNames(t *testing.T) {
	assert.Equal(t, DefaultClaimNames(), ClaimNames{}.withDefaults())
	custom := ClaimNames{Patient: "pt"}.withDefaults()
	assert.Equal(t, "pt", custom.Patient)
	assert.Equal(t, "encounter", custom.Encounter)
	assert.Equal(t, "context", custom.Nested)
}

func FuzzNewLaunchContext(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"patient":"p1","encounter":"e1","scope":"launch patient/*.rs","aud":["a"],"exp":1700000000}`,
		`{"context":{"patient":"np","need_patient_banner":"true"},"fhirContext":["A/1",{"identifier":{"value":"v"}}]}`,
		`{"fhirContext":[{"reference":"A/1","canonical":"c"}],"scope":["a","b"],"azp":"x"}`,
		`{"patient":1,"exp":1e400}`,
		`{"iat":-1,"exp":"x","need_patient_banner":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var claims map[string]any
		if json.Unmarshal(data, &claims) != nil {
			return
		}
		for _, names := range []ClaimNames{{}, {Patient: "encounter", Nested: "patient"}} {
			lc, err := NewLaunchContext(claims, names)
			if err != nil {
				if !errors.Is(err, ErrBadLaunchContext) {
					t.Fatalf("error %v does not wrap ErrBadLaunchContext", err)
				}
				if lc != nil {
					t.Fatal("LaunchContext with an error")
				}
				continue
			}
			if lc.Patient != "" && !isFHIRID(lc.Patient) {
				t.Fatalf("patient %q is not a FHIR id", lc.Patient)
			}
			if lc.Encounter != "" && !isFHIRID(lc.Encounter) {
				t.Fatalf("encounter %q is not a FHIR id", lc.Encounter)
			}
			// A patient value of another type never becomes a patient.
			n := names.withDefaults()
			if raw, ok := claims[n.Patient]; ok && raw != nil {
				if s, _ := raw.(string); s != lc.Patient {
					t.Fatalf("patient %q from claim %v", lc.Patient, raw)
				}
			}
			for _, item := range lc.FHIRContext {
				set := 0
				for _, ok := range []bool{item.Reference != "", item.Canonical != "", item.Identifier != nil} {
					if ok {
						set++
					}
				}
				if set != 1 {
					t.Fatalf("fhirContext item %+v", item)
				}
			}
		}
	})
}
