package authserver

import (
	"encoding/json"
	"fmt"

	"github.com/smartauth/smartauth/middleware"
)

// Launch is the SMART launch context of a grant: what the token response and
// every access token issued from the grant carry besides the scope. Its JSON
// form (SMART names, absent fields omitted) is what the token store keeps as
// the grant's opaque LaunchContext.
type Launch struct {
	// Patient is the FHIR id of the patient in context (launch/patient).
	Patient string `json:"patient,omitempty"`
	// Encounter is the FHIR id of the encounter in context
	// (launch/encounter).
	Encounter string `json:"encounter,omitempty"`
	// FHIRContext lists further resources in context (SMART 2.x).
	FHIRContext []middleware.FHIRContextItem `json:"fhirContext,omitempty"`
	// NeedPatientBanner is need_patient_banner; nil leaves it out, so that
	// an explicit false survives.
	NeedPatientBanner *bool `json:"need_patient_banner,omitempty"`
	// SmartStyleURL is smart_style_url.
	SmartStyleURL string `json:"smart_style_url,omitempty"`
	// Intent is intent.
	Intent string `json:"intent,omitempty"`
	// Tenant is tenant.
	Tenant string `json:"tenant,omitempty"`
}

// marshalLaunch returns the stored form of l.
func marshalLaunch(l Launch) ([]byte, error) {
	b, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("authserver: encoding launch context: %w", err)
	}
	return b, nil
}

// unmarshalLaunch decodes a grant's stored launch context; empty means none.
func unmarshalLaunch(b []byte) (Launch, error) {
	var l Launch
	if len(b) == 0 {
		return l, nil
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("authserver: decoding stored launch context: %w", err)
	}
	return l, nil
}
