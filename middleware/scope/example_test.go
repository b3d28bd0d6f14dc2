package scope_test

import (
	"fmt"

	"github.com/smartauth/smartauth/middleware/scope"
)

func ExampleParse() {
	set := scope.Parse("launch/patient openid fhirUser patient/Observation.rs user/Patient.read patient/Condition.sr")
	for _, sc := range set.Scopes() {
		if sc.Kind == scope.KindClinical {
			fmt.Printf("%s: %s %s .%s (v%d)\n", sc.Raw, sc.Context, sc.ResourceType, sc.Permissions, sc.Version)
		}
	}
	fmt.Println(set.Has("launch/patient"), set.Has("patient/Condition.sr"))
	// Output:
	// patient/Observation.rs: patient Observation .rs (v2)
	// user/Patient.read: user Patient .rs (v1)
	// true true
}

func ExampleSet_Allows() {
	set := scope.Parse("patient/Observation.rs patient/*.c user/Patient.write")
	fmt.Println(set.Allows(scope.Patient, "Observation", scope.InteractionSearch))
	fmt.Println(set.Allows(scope.Patient, "ObservationDefinition", scope.InteractionRead))
	fmt.Println(set.Allows(scope.Patient, "Condition", scope.InteractionCreate))
	fmt.Println(set.Allows(scope.User, "Observation", scope.InteractionRead))
	fmt.Println(set.Allows(scope.User, "Patient", scope.InteractionPatch))
	// Output:
	// true
	// false
	// true
	// false
	// true
}

func ExampleSet_Matching() {
	set := scope.Parse("patient/Observation.rs?category=laboratory patient/Observation.r?category=vital-signs")
	fmt.Println(set.Check(scope.Patient, "Observation", scope.InteractionRead) == scope.AllowConstrained)
	for _, sc := range set.Matching(scope.Patient, "Observation", scope.InteractionRead) {
		fmt.Println(sc.Constraints)
	}
	// Output:
	// true
	// [{category laboratory}]
	// [{category vital-signs}]
}
