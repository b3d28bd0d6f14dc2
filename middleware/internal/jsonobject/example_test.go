package jsonobject_test

import (
	"fmt"

	"github.com/smartauth/smartauth/middleware/internal/jsonobject"
)

func ExampleMembers() {
	payload := `{"iss":"https://auth.example.org","PATIENT":"x","patient":"123","fhirContext":[{"reference":"Encounter/7"}]}`
	err := jsonobject.Members(payload, func(name, value string) error {
		switch name {
		case "patient", "fhirContext":
			v, err := jsonobject.Decode(value)
			fmt.Printf("%s: %v\n", name, v)
			return err
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// patient: 123
	// fhirContext: [map[reference:Encounter/7]]
	// <nil>
}
