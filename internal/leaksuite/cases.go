package leaksuite

import (
	"net/http"
	"strings"
)

// Shorthands of the tables.
const (
	p1 = Patient
	p2 = OtherPatient

	// Scopes.
	rs     = "launch/patient patient/*.rs"
	cruds  = "launch/patient patient/*.cruds"
	v1Read = "launch/patient patient/*.read"
	v1All  = "launch/patient patient/*.*"
	v1Obs  = "launch/patient patient/Observation.read"
	lab    = "launch/patient patient/Observation.rs?category=laboratory"
	mixed  = "launch/patient patient/*.rs user/Observation.rs?category=laboratory"
	userRS = "launch/patient user/*.rs"
	sysRS  = "system/*.rs"

	form      = "application/x-www-form-urlencoded"
	fhirJSON  = "application/fhir+json"
	jsonPatch = "application/json-patch+json"

	// Resources.
	obsGlucose  = "Observation/obs-glucose-1"
	obsHeart    = "Observation/obs-heart-rate-1"
	obsOtherLab = "Observation/obs-other-patient-lab-1"
	obsOther    = "Observation/obs-other-patient-1"
)

// The Forbid marker of the laboratory-only scopes.
var noVitalSigns = []string{"vital-signs"}

// observation is an Observation about patient, to write.
func observation(id, patient string) string {
	idField := ""
	if id != "" {
		idField = `"id":"` + id + `",`
	}
	return `{"resourceType":"Observation",` + idField + `"status":"final","code":{"text":"note"},"subject":{"reference":"Patient/` + patient + `"}}`
}

// bundle is a batch or transaction Bundle of entries, each
// "METHOD url" or "METHOD url resource".
func bundle(typ string, entries ...string) string {
	var es []string
	for _, e := range entries {
		method, rest, _ := strings.Cut(e, " ")
		url, res, _ := strings.Cut(rest, " ")
		entry := `{"request":{"method":"` + method + `","url":"` + url + `"}`
		if res != "" {
			entry += `,"resource":` + res
		}
		es = append(es, entry+"}")
	}
	return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(es, ",") + `]}`
}

// leakCases are adversarial requests by tokens with the patient p1 in
// context: none may serve (or change) anything of p2's, nor anything a
// scope's constraint excludes.
func leakCases() []Case {
	const forbidden = http.StatusForbidden
	return []Case{
		// Read, vread and history by id.
		{Name: "read other Patient", Scope: rs, Path: "/Patient/" + p2, Status: forbidden},
		{Name: "read other Observation", Scope: rs, Path: "/" + obsOther, Status: forbidden},
		{Name: "read other Encounter", Scope: rs, Path: "/Encounter/enc-other-patient-1", Status: forbidden},
		{Name: "read other Condition", Scope: rs, Path: "/Condition/cond-other-patient-1", Status: forbidden},
		{Name: "read other AllergyIntolerance", Scope: rs, Path: "/AllergyIntolerance/allergy-other-patient-1", Status: forbidden},
		{Name: "read other MedicationRequest", Scope: rs, Path: "/MedicationRequest/medreq-other-patient-1", Status: forbidden},
		{Name: "read other Group", Scope: rs, Path: "/Group/group-other-patient-1", Status: forbidden},
		{Name: "read other DiagnosticReport", Scope: rs, Path: "/DiagnosticReport/dr-other-patient-1", Status: forbidden},
		{Name: "vread other Observation", Scope: rs, Path: "/" + obsOther + "/_history/1", Status: forbidden},
		{Name: "vread other Patient", Scope: rs, Path: "/Patient/" + p2 + "/_history/1", Status: forbidden},
		{Name: "history of other Observation", Scope: rs, Path: "/" + obsOther + "/_history", Status: forbidden},
		{Name: "history of other Patient", Scope: rs, Path: "/Patient/" + p2 + "/_history", Status: forbidden},
		{Name: "type history", Scope: rs, Path: "/Observation/_history", Status: forbidden},
		{Name: "system history", Scope: rs, Path: "/_history", Status: forbidden},
		{Name: "HEAD other Patient", Scope: rs, Method: http.MethodHead, Path: "/Patient/" + p2, Status: forbidden},

		// Compartment paths and operations.
		{Name: "other compartment: Observation", Scope: rs, Path: "/Patient/" + p2 + "/Observation", Status: forbidden},
		{Name: "other compartment: every type", Scope: rs, Path: "/Patient/" + p2 + "/*", Status: forbidden},
		{Name: "other compartment: POST _search", Scope: rs, Method: http.MethodPost, Path: "/Patient/" + p2 + "/Observation/_search", ContentType: form, Status: forbidden},
		{Name: "other compartment via own patient parameter", Scope: rs, Path: "/Patient/" + p2 + "/Observation?patient=" + p1, Status: forbidden},
		{Name: "other patient's Encounter compartment", Scope: rs, Path: "/Encounter/enc-other-patient-1/Observation", Status: forbidden},
		{Name: "other $everything", Scope: rs, Path: "/Patient/" + p2 + "/$everything", Status: forbidden},
		{Name: "other $everything by POST", Scope: rs, Method: http.MethodPost, Path: "/Patient/" + p2 + "/$everything", ContentType: fhirJSON, Body: `{"resourceType":"Parameters"}`, Status: forbidden},

		// Search: every form of a reference to the other patient.
		{Name: "patient=id", Scope: rs, Path: "/Observation?patient=" + p2, Status: forbidden},
		{Name: "patient=Patient/id", Scope: rs, Path: "/Observation?patient=Patient/" + p2, Status: forbidden},
		{Name: "subject=Patient/id", Scope: rs, Path: "/Observation?subject=Patient/" + p2, Status: forbidden},
		{Name: "subject=id", Scope: rs, Path: "/Observation?subject=" + p2, Status: forbidden},
		{Name: "subject:Patient=id", Scope: rs, Path: "/Observation?subject:Patient=" + p2, Status: forbidden},
		{Name: "subject=absolute reference", Scope: rs, Path: "/Observation?subject=" + BaseURL + "/Patient/" + p2, Status: forbidden},
		{Name: "own id under a foreign base", Scope: rs, Path: "/Observation?subject=http://elsewhere.test/fhir/Patient/" + p1, Status: forbidden},
		{Name: "subject=versioned reference", Scope: rs, Path: "/Observation?subject=Patient/" + p2 + "/_history/1", Status: forbidden},
		{Name: "comma list", Scope: rs, Path: "/Observation?subject=Patient/" + p1 + ",Patient/" + p2, Status: forbidden},
		{Name: "comma list of ids", Scope: rs, Path: "/Observation?patient=" + p1 + "," + p2, Status: forbidden},
		{Name: "escaped comma", Scope: rs, Path: "/Observation?patient=" + p1 + `\,` + p2, Status: forbidden},
		{Name: "repeated parameter", Scope: rs, Path: "/Observation?patient=" + p1 + "&patient=" + p2, Status: forbidden},
		{Name: "patient and subject", Scope: rs, Path: "/Observation?patient=" + p1 + "&subject=Patient/" + p2, Status: forbidden},
		{Name: "SUBJECT upper case", Scope: rs, Path: "/Observation?SUBJECT=Patient/" + p2, Status: forbidden},
		{Name: "Patient capitalised", Scope: rs, Path: "/Observation?Patient=" + p2, Status: forbidden},
		{Name: "percent-encoded parameter name", Scope: rs, Path: "/Observation?pat%69ent=" + p2, Status: forbidden},
		{Name: "performer", Scope: rs, Path: "/Observation?performer=Patient/" + p2, Status: forbidden},
		{Name: "subject:missing", Scope: rs, Path: "/Observation?subject:missing=false", Status: forbidden},
		{Name: "subject:not", Scope: rs, Path: "/Observation?subject:not=Patient/" + p1, Status: forbidden},
		{Name: "subject:identifier", Scope: rs, Path: "/Observation?subject:identifier=urn:x|1", Status: forbidden},
		{Name: "recorder", Scope: rs, Path: "/AllergyIntolerance?recorder=Patient/" + p2, Status: forbidden},
		{Name: "asserter bare id", Scope: rs, Path: "/AllergyIntolerance?asserter=" + p2, Status: forbidden},
		{Name: "Encounter subject", Scope: rs, Path: "/Encounter?subject=Patient/" + p2, Status: forbidden},
		{Name: "Group member", Scope: rs, Path: "/Group?member=" + p2, Status: forbidden},
		{Name: "Patient _id", Scope: rs, Path: "/Patient?_id=" + p2, Status: forbidden},
		{Name: "Patient _id list", Scope: rs, Path: "/Patient?_id=" + p1 + "," + p2, Status: forbidden},
		{Name: "Patient _ID upper case", Scope: rs, Path: "/Patient?_ID=" + p2, Status: forbidden},
		{Name: "Patient search without parameters", Scope: rs, Path: "/Patient", Status: forbidden},
		{Name: "Patient search by name", Scope: rs, Path: "/Patient?name=Nader", Status: forbidden},
		{Name: "Observation search without parameters", Scope: rs, Path: "/Observation", Status: forbidden},
		{Name: "Observation _id of other's", Scope: rs, Path: "/Observation?_id=" + strings.TrimPrefix(obsOther, "Observation/"), Status: forbidden},
		{Name: "Observation _id list", Scope: rs, Path: "/Observation?_id=obs-glucose-1,obs-other-patient-1", Status: forbidden},
		{Name: "by other's Encounter", Scope: rs, Path: "/Observation?encounter=Encounter/enc-other-patient-1", Status: forbidden},
		{Name: "by other's result", Scope: rs, Path: "/DiagnosticReport?result=Observation/obs-other-patient-lab-1", Status: forbidden},
		{Name: "by practitioner requester", Scope: rs, Path: "/MedicationRequest?requester=Practitioner/SMART-1234", Status: forbidden},
		{Name: "by practitioner requester, type modifier", Scope: rs, Path: "/MedicationRequest?requester:Practitioner=SMART-1234", Status: forbidden},

		// Searches that do not name the patient: whether they are served
		// must not depend on other patients' data (an existence oracle),
		// and their total must not count it.
		{Name: "count only", Scope: rs, Path: "/Observation?_summary=count", Status: forbidden},
		{Name: "count by _count=0", Scope: rs, Path: "/Observation?code=http://loinc.org|8867-4&_count=0", Status: forbidden},
		{Name: "total of a first page", Scope: rs, Path: "/Observation?code=http://loinc.org|8867-4&_count=1", Status: forbidden},
		{Name: "oracle: Patient by a name nobody has", Scope: rs, Path: "/Patient?family=Nobody", Status: forbidden},
		{Name: "oracle: Observation by a code nobody has", Scope: rs, Path: "/Observation?code=http://loinc.org|0000-0", Status: forbidden},
		{Name: "oracle: Condition by a code only the other patient has", Scope: rs, Path: "/Condition?code=38341003", Status: forbidden},
		{Name: "oracle: subject of another type", Scope: rs, Path: "/Observation?subject=Group/group-other-patient-1", Status: forbidden},

		// Chains, _has, _filter.
		{Name: "chain subject.name", Scope: rs, Path: "/Observation?subject.name=Nader", Status: forbidden},
		{Name: "chain patient.identifier", Scope: rs, Path: "/Observation?patient.identifier=urn:x|1", Status: forbidden},
		{Name: "chain with type", Scope: rs, Path: "/Observation?patient=" + p1 + "&subject:Patient.name=Nader", Status: forbidden},
		{Name: "_has", Scope: rs, Path: "/Patient?_id=" + p1 + "&_has:Observation:patient:code=2339-0", Status: forbidden},
		{Name: "_HAS upper case", Scope: rs, Path: "/Patient?_id=" + p1 + "&_HAS:Observation:patient:code=2339-0", Status: forbidden},
		{Name: "_filter", Scope: rs, Path: "/Observation?patient=" + p1 + "&_filter=subject%20eq%20Patient/" + p2, Status: forbidden},

		// _include and _revinclude.
		{Name: "_include other patient as performer", Scope: rs, Path: "/Observation?patient=" + p1 + "&_include=Observation:performer", Status: forbidden},
		{Name: "_include from shared Observation", Scope: rs, Path: "/Observation?_id=obs-shared-1&_include=Observation:performer", Status: forbidden},
		{Name: "_revinclude from Practitioner", Scope: rs, Path: "/Practitioner?_id=SMART-1234&_revinclude=MedicationRequest:requester", Status: forbidden},
		{Name: "_revinclude from Medication", Scope: rs, Path: "/Medication?_id=med-1&_revinclude=MedicationRequest:medication", Status: forbidden},
		{Name: "_revinclude from Organization", Scope: rs, Path: "/Organization?_id=org-1&_revinclude=DiagnosticReport:performer", Status: forbidden},

		// System searches.
		{Name: "_type with patient", Scope: rs, Path: "/?_type=Observation&patient=" + p2, Status: forbidden},
		{Name: "_type list with patient", Scope: rs, Path: "/?_type=Condition,AllergyIntolerance&patient=" + p2, Status: forbidden},
		{Name: "_type Patient", Scope: rs, Path: "/?_type=Patient", Status: forbidden},
		{Name: "system search with patient, no _type", Scope: rs, Path: "/?patient=" + p2, Status: forbidden},
		{Name: "system _search with subject", Scope: rs, Path: "/_search?_type=Observation&subject=Patient/" + p2, Status: forbidden},
		{Name: "system search by _id", Scope: rs, Path: "/?_type=Observation&_id=obs-other-patient-1", Status: forbidden},

		// POST _search.
		{Name: "POST _search form", Scope: rs, Method: http.MethodPost, Path: "/Observation/_search", ContentType: form, Body: "patient=" + p2, Status: forbidden},
		{Name: "POST _search form overrides query", Scope: rs, Method: http.MethodPost, Path: "/Observation/_search?patient=" + p1, ContentType: form, Body: "subject=Patient/" + p2, Status: forbidden},
		{Name: "POST _search form with charset", Scope: rs, Method: http.MethodPost, Path: "/Observation/_search", ContentType: form + "; charset=utf-8", Body: "patient=" + p2, Status: forbidden},
		{Name: "POST system _search form", Scope: rs, Method: http.MethodPost, Path: "/_search", ContentType: form, Body: "_type=Observation&patient=" + p2, Status: forbidden},
		{Name: "POST Patient _search form", Scope: rs, Method: http.MethodPost, Path: "/Patient/_search", ContentType: form, Body: "_id=" + p2, Status: forbidden},
		{Name: "POST _search with a body not a form", Scope: rs, Method: http.MethodPost, Path: "/Observation/_search", ContentType: "text/plain", Body: "patient=" + p2, Status: forbidden},

		// Batch and transaction.
		{Name: "batch: read other Patient", Scope: rs, Method: http.MethodPost, Path: "", ContentType: fhirJSON, Body: bundle("batch", "GET Patient/"+p1, "GET Patient/"+p2), Status: forbidden},
		{Name: "batch: search other patient", Scope: rs, Method: http.MethodPost, Path: "", ContentType: fhirJSON, Body: bundle("batch", "GET Observation?patient="+p2), Status: forbidden},
		{Name: "batch: read other Observation", Scope: rs, Method: http.MethodPost, Path: "", ContentType: fhirJSON, Body: bundle("batch", "GET "+obsGlucose, "GET "+obsOther), Status: forbidden},
		{Name: "batch: absolute URL", Scope: rs, Method: http.MethodPost, Path: "", ContentType: fhirJSON, Body: bundle("batch", "GET "+BaseURL+"/Patient/"+p2), Status: forbidden},
		{Name: "batch: dot segments", Scope: rs, Method: http.MethodPost, Path: "", ContentType: fhirJSON, Body: bundle("batch", "GET Patient/"+p1+"/../"+p2), Status: forbidden},
		{Name: "batch: encoded slash", Scope: rs, Method: http.MethodPost, Path: "", ContentType: fhirJSON, Body: bundle("batch", "GET Patient%2F"+p2), Status: forbidden},
		{Name: "batch: lower-case type", Scope: rs, Method: http.MethodPost, Path: "", ContentType: fhirJSON, Body: bundle("batch", "GET patient/"+p2), Status: forbidden},
		{Name: "batch: nested batch", Scope: rs, Method: http.MethodPost, Path: "", ContentType: fhirJSON, Body: bundle("batch", "POST / "+bundle("batch", "GET Patient/"+p2)), Status: forbidden},
		{Name: "transaction: create for other", Scope: cruds, Method: http.MethodPost, Path: "/", ContentType: fhirJSON, Body: bundle("transaction", "POST Observation "+observation("", p2)), Status: forbidden},
		{Name: "transaction: update other's", Scope: cruds, Method: http.MethodPost, Path: "/", ContentType: fhirJSON, Body: bundle("transaction", "PUT "+obsOther+" "+observation("obs-other-patient-1", p1)), Status: forbidden},
		{Name: "transaction: delete other's", Scope: cruds, Method: http.MethodPost, Path: "/", ContentType: fhirJSON, Body: bundle("transaction", "DELETE "+obsGlucose, "DELETE "+obsOther), Status: forbidden},
		{Name: "transaction: new patient and their data", Scope: cruds, Method: http.MethodPost, Path: "/", ContentType: fhirJSON,
			Body: bundle("transaction", `POST Patient {"resourceType":"Patient","name":[{"family":"Nader"}]}`), Status: forbidden},

		// Path tricks.
		{Name: "encoded slash", Scope: rs, Path: "/Patient%2F" + p2, Status: forbidden},
		{Name: "encoded slash, lower case", Scope: rs, Path: "/Patient%2f" + p2, Status: forbidden},
		{Name: "encoded slash in compartment", Scope: rs, Path: "/Patient/" + p1 + "%2F..%2F" + p2 + "/Observation", Status: forbidden},
		{Name: "double slash before type", Scope: rs, Path: "//Patient/" + p2, Status: forbidden},
		{Name: "double slash before id", Scope: rs, Path: "/Patient//" + p2, Status: forbidden},
		{Name: "trailing slash", Scope: rs, Path: "/Patient/" + p2 + "/", Status: forbidden},
		{Name: "dot segments", Scope: rs, Path: "/Patient/" + p1 + "/../" + p2, Status: forbidden},
		{Name: "encoded dot segments", Scope: rs, Path: "/Patient/" + p1 + "/%2e%2e/" + p2, Status: forbidden},
		{Name: "dot segment", Scope: rs, Path: "/./Patient/" + p2, Status: forbidden},
		{Name: "dot segments into compartment", Scope: rs, Path: "/Patient/" + p1 + "/../" + p2 + "/Observation", Status: forbidden},
		{Name: "lower-case type", Scope: rs, Path: "/patient/" + p2, Status: forbidden},
		{Name: "upper-case type", Scope: rs, Path: "/PATIENT/" + p2, Status: forbidden},
		{Name: "upper-case Observation", Scope: rs, Path: "/OBSERVATION/obs-other-patient-1", Status: forbidden},
		{Name: "upper-case compartment", Scope: rs, Path: "/PATIENT/" + p2 + "/Observation", Status: forbidden},
		{Name: "upper-case type search", Scope: rs, Path: "/OBSERVATION?patient=" + p2, Status: forbidden},
		{Name: "percent-encoded type", Scope: rs, Path: "/%50atient/" + p2, Status: forbidden},
		{Name: "id with trailing space", Scope: rs, Path: "/Patient/" + p2 + "%20", Status: forbidden},

		// Writes into the other patient's compartment.
		{Name: "create Observation for other", Scope: cruds, Method: http.MethodPost, Path: "/Observation", ContentType: fhirJSON, Body: observation("", p2), Status: forbidden},
		{Name: "create Observation naming other as performer", Scope: cruds, Method: http.MethodPost, Path: "/Observation", ContentType: fhirJSON,
			Body: `{"resourceType":"Observation","status":"final","code":{"text":"note"},"subject":{"reference":"Patient/` + p1 + `"},"performer":[{"reference":"Patient/` + p2 + `"}]}`, Status: forbidden},
		{Name: "create Patient", Scope: cruds, Method: http.MethodPost, Path: "/Patient", ContentType: fhirJSON, Body: `{"resourceType":"Patient","name":[{"family":"Nader"}]}`, Status: forbidden},
		{Name: "create with contained other Patient", Scope: cruds, Method: http.MethodPost, Path: "/Observation", ContentType: fhirJSON,
			Body: `{"resourceType":"Observation","status":"final","code":{"text":"note"},"subject":{"reference":"#p"},"contained":[{"resourceType":"Patient","id":"p","name":[{"family":"Nader"}]}]}`, Status: forbidden},
		{Name: "create with contained Observation of other", Scope: cruds, Method: http.MethodPost, Path: "/Observation", ContentType: fhirJSON,
			Body: `{"resourceType":"Observation","status":"final","code":{"text":"note"},"subject":{"reference":"Patient/` + p1 + `"},"contained":[` + observation("c", p2) + `]}`, Status: forbidden},
		{Name: "create not JSON", Scope: cruds, Method: http.MethodPost, Path: "/Observation", ContentType: "text/plain", Body: observation("", p2), Status: forbidden},
		{Name: "update other's Observation", Scope: cruds, Method: http.MethodPut, Path: "/" + obsOther, ContentType: fhirJSON, Body: observation("obs-other-patient-1", p1), Status: forbidden},
		{Name: "update other's Observation, keeping it theirs", Scope: cruds, Method: http.MethodPut, Path: "/" + obsOther, ContentType: fhirJSON, Body: observation("obs-other-patient-1", p2), Status: forbidden},
		{Name: "update own Observation into other's", Scope: cruds, Method: http.MethodPut, Path: "/" + obsGlucose, ContentType: fhirJSON, Body: observation("obs-glucose-1", p2), Status: forbidden},
		{Name: "update-as-create for other", Scope: cruds, Method: http.MethodPut, Path: "/Observation/new-1", ContentType: fhirJSON, Body: observation("new-1", p2), Status: forbidden},
		{Name: "update other Patient", Scope: cruds, Method: http.MethodPut, Path: "/Patient/" + p2, ContentType: fhirJSON, Body: `{"resourceType":"Patient","id":"` + p2 + `"}`, Status: forbidden},
		{Name: "conditional update", Scope: cruds, Method: http.MethodPut, Path: "/Observation?_id=obs-other-patient-1", ContentType: fhirJSON, Body: observation("", p1), Status: forbidden},
		{Name: "patch subject to other", Scope: cruds, Method: http.MethodPatch, Path: "/" + obsGlucose, ContentType: jsonPatch,
			Body: `[{"op":"replace","path":"/subject/reference","value":"Patient/` + p2 + `"}]`, Status: forbidden},
		{Name: "patch other's Observation", Scope: cruds, Method: http.MethodPatch, Path: "/" + obsOther, ContentType: jsonPatch,
			Body: `[{"op":"replace","path":"/status","value":"amended"}]`, Status: forbidden},
		{Name: "patch other's Observation, upper-case type", Scope: cruds, Method: http.MethodPatch, Path: "/OBSERVATION/obs-other-patient-1", ContentType: jsonPatch,
			Body: `[{"op":"replace","path":"/status","value":"amended"}]`, Status: forbidden},
		{Name: "patch not JSON Patch", Scope: cruds, Method: http.MethodPatch, Path: "/" + obsGlucose, ContentType: fhirJSON, Body: observation("obs-glucose-1", p2), Status: forbidden},
		{Name: "patch own Observation adding other as performer", Scope: cruds, Method: http.MethodPatch, Path: "/" + obsGlucose, ContentType: jsonPatch,
			Body: `[{"op":"add","path":"/performer","value":[{"reference":"Patient/` + p2 + `"}]}]`, Status: forbidden},
		{Name: "update shared Observation", Scope: cruds, Method: http.MethodPut, Path: "/" + shared, ContentType: fhirJSON, Body: observation("obs-shared-1", p1), Status: forbidden},
		{Name: "delete shared Observation", Scope: cruds, Method: http.MethodDelete, Path: "/" + shared, Status: forbidden},
		{Name: "delete other's Observation", Scope: cruds, Method: http.MethodDelete, Path: "/" + obsOther, Status: forbidden},
		{Name: "delete other's Observation, upper-case type", Scope: cruds, Method: http.MethodDelete, Path: "/OBSERVATION/obs-other-patient-1", Status: forbidden},
		{Name: "delete other Patient", Scope: cruds, Method: http.MethodDelete, Path: "/Patient/" + p2, Status: forbidden},
		{Name: "delete other Patient, upper-case type", Scope: cruds, Method: http.MethodDelete, Path: "/PATIENT/" + p2, Status: forbidden},
		{Name: "conditional delete", Scope: cruds, Method: http.MethodDelete, Path: "/Observation?patient=" + p2, Status: forbidden},

		// v1 scopes.
		{Name: "v1: read other Patient", Scope: v1Read, Path: "/Patient/" + p2, Status: forbidden},
		{Name: "v1: read other Observation", Scope: v1Read, Path: "/" + obsOther, Status: forbidden},
		{Name: "v1: search other patient", Scope: v1Obs, Path: "/Observation?patient=" + p2, Status: forbidden},
		{Name: "v1: compartment", Scope: v1Read, Path: "/Patient/" + p2 + "/Condition", Status: forbidden},
		{Name: "v1: create for other", Scope: v1All, Method: http.MethodPost, Path: "/Observation", ContentType: fhirJSON, Body: observation("", p2), Status: forbidden},
		{Name: "v1: delete other's", Scope: v1All, Method: http.MethodDelete, Path: "/" + obsOther, Status: forbidden},
		{Name: "v1: write scope cannot read", Scope: "launch/patient patient/*.write", Path: "/" + obsGlucose, Status: forbidden},

		// Mixed: patient/*.rs user/Observation.rs?category=laboratory.
		{Name: "mixed: other's vital signs by id", Scope: mixed, Path: "/" + obsOther, Status: forbidden},
		{Name: "mixed: other's Observations by patient", Scope: mixed, Path: "/Observation?patient=" + p2, Status: forbidden},
		{Name: "mixed: other's vital signs by category", Scope: mixed, Path: "/Observation?patient=" + p2 + "&category=vital-signs", Status: forbidden},
		{Name: "mixed: other's compartment", Scope: mixed, Path: "/Patient/" + p2 + "/Observation", Status: forbidden},
		{Name: "mixed: other's lab with their Patient", Scope: mixed, Path: "/Observation?patient=" + p2 + "&category=laboratory&_include=Observation:subject", Status: forbidden},
		{Name: "mixed: other's lab with their Encounter", Scope: mixed, Path: "/Observation?patient=" + p2 + "&category=laboratory&_include=Observation:encounter", Status: forbidden},
		{Name: "mixed: other Patient", Scope: mixed, Path: "/Patient/" + p2, Status: forbidden},
		{Name: "mixed: other's Conditions", Scope: mixed, Path: "/Condition?patient=" + p2, Status: forbidden},
		{Name: "mixed: other's lab by id, history", Scope: mixed, Path: "/" + obsOtherLab + "/_history", Status: http.StatusOK, Allow: []string{obsOtherLab}},

		// Constrained: patient/Observation.rs?category=laboratory.
		{Name: "lab: own vital signs by id", Scope: lab, Path: "/" + obsHeart, Status: forbidden, Forbid: noVitalSigns},
		{Name: "lab: own vital signs by vread", Scope: lab, Path: "/" + obsHeart + "/_history/1", Status: forbidden, Forbid: noVitalSigns},
		{Name: "lab: own Observations by patient", Scope: lab, Path: "/Observation?patient=" + p1, Status: forbidden, Forbid: noVitalSigns},
		{Name: "lab: own vital signs by category", Scope: lab, Path: "/Observation?patient=" + p1 + "&category=vital-signs", Status: forbidden, Forbid: noVitalSigns},
		{Name: "lab: category list", Scope: lab, Path: "/Observation?patient=" + p1 + "&category=laboratory,vital-signs", Status: forbidden, Forbid: noVitalSigns},
		{Name: "lab: category:not", Scope: lab, Path: "/Observation?patient=" + p1 + "&category:not=laboratory", Status: forbidden, Forbid: noVitalSigns},
		{Name: "lab: CATEGORY upper case", Scope: lab, Path: "/Observation?patient=" + p1 + "&CATEGORY=vital-signs", Status: forbidden, Forbid: noVitalSigns},
		{Name: "lab: by vital-sign code", Scope: lab, Path: "/Observation?patient=" + p1 + "&code=http://loinc.org|8867-4", Status: forbidden, Forbid: noVitalSigns},
		{Name: "lab: own compartment", Scope: lab, Path: "/Patient/" + p1 + "/Observation", Status: forbidden, Forbid: noVitalSigns},
		{Name: "lab: other's lab", Scope: lab, Path: "/" + obsOtherLab, Status: forbidden},
		{Name: "lab: other's lab by search", Scope: lab, Path: "/Observation?patient=" + p2 + "&category=laboratory", Status: forbidden},
		{Name: "lab: own Patient", Scope: lab, Path: "/Patient/" + p1, Status: forbidden},
		{Name: "lab: _revinclude DiagnosticReport", Scope: lab, Path: "/Observation?patient=" + p1 + "&category=laboratory&_revinclude=DiagnosticReport:result", Status: forbidden},
		{Name: "lab: POST _search", Scope: lab, Method: http.MethodPost, Path: "/Observation/_search", ContentType: form, Body: "patient=" + p1 + "&category=vital-signs", Status: forbidden, Forbid: noVitalSigns},
		{Name: "lab: batch", Scope: lab, Method: http.MethodPost, Path: "", ContentType: fhirJSON, Body: bundle("batch", "GET "+obsGlucose, "GET "+obsHeart), Status: forbidden, Forbid: noVitalSigns},
	}
}

// The patient's resources, as the naive server serves them.
var (
	ownObservations = []string{obsGlucose, obsHeart, shared}
	ownCompartment  = []string{"AllergyIntolerance/allergy-1", "Condition/cond-1", "DiagnosticReport/dr-1", "Encounter/" + encounter,
		"MedicationRequest/medreq-1", obsGlucose, obsHeart, shared}
)

// allowedCases are requests the stack must still serve, with exactly
// these resources.
func allowedCases() []Case {
	const ok = http.StatusOK
	return []Case{
		{Name: "own Patient", Scope: rs, Path: "/Patient/" + p1, Status: ok, Want: []string{"Patient/" + p1}},
		{Name: "own Patient by _id", Scope: rs, Path: "/Patient?_id=" + p1, Status: ok, Want: []string{"Patient/" + p1}},
		{Name: "own Patient, vread", Scope: rs, Path: "/Patient/" + p1 + "/_history/1", Status: ok, Want: []string{"Patient/" + p1}},
		{Name: "own Patient, history", Scope: rs, Path: "/Patient/" + p1 + "/_history", Status: ok, Want: []string{"Patient/" + p1}},
		{Name: "own Observations by patient", Scope: rs, Path: "/Observation?patient=" + p1, Status: ok, Want: ownObservations},
		{Name: "own Observations by Patient/id", Scope: rs, Path: "/Observation?patient=Patient/" + p1, Status: ok, Want: ownObservations},
		{Name: "own Observations by subject:Patient", Scope: rs, Path: "/Observation?subject:Patient=" + p1, Status: ok, Want: ownObservations},
		{Name: "own Observations by absolute reference", Scope: rs, Path: "/Observation?subject=" + BaseURL + "/Patient/" + p1, Status: ok, Want: ownObservations},
		{Name: "own laboratory Observations", Scope: rs, Path: "/Observation?patient=" + p1 + "&category=laboratory", Status: ok, Want: []string{obsGlucose}},
		{Name: "own Observations by POST _search", Scope: rs, Method: http.MethodPost, Path: "/Observation/_search", ContentType: form, Body: "patient=" + p1, Status: ok, Want: ownObservations},
		{Name: "own Observation by id", Scope: rs, Path: "/" + obsGlucose, Status: ok, Want: []string{obsGlucose}},
		{Name: "own Observation, vread", Scope: rs, Path: "/" + obsHeart + "/_history/1", Status: ok, Want: []string{obsHeart}},
		{Name: "own Observation naming other as performer", Scope: rs, Path: "/" + shared, Status: ok, Want: []string{shared}},
		{Name: "own compartment: Observation", Scope: rs, Path: "/Patient/" + p1 + "/Observation", Status: ok, Want: ownObservations},
		{Name: "own compartment: every type", Scope: rs, Path: "/Patient/" + p1 + "/*", Status: ok, Want: ownCompartment},
		{Name: "own compartment with category", Scope: rs, Path: "/Patient/" + p1 + "/Observation?category=vital-signs", Status: ok, Want: []string{obsHeart, shared}},
		{Name: "own $everything", Scope: rs, Path: "/Patient/" + p1 + "/$everything", Status: ok,
			Want: append(append([]string{"Patient/" + p1}, ownCompartment...), "Practitioner/SMART-1234", "Organization/org-1")},
		{Name: "own Encounter", Scope: rs, Path: "/Encounter/" + encounter, Status: ok, Want: []string{"Encounter/" + encounter}},
		{Name: "own MedicationRequest with contained Medication", Scope: rs, Path: "/MedicationRequest/medreq-1", Status: ok, Want: []string{"MedicationRequest/medreq-1"}},
		{Name: "own Group", Scope: rs, Path: "/Group/group-1", Status: ok, Want: []string{"Group/group-1"}},
		{Name: "own Conditions and allergies by _type", Scope: rs, Path: "/?_type=Condition,AllergyIntolerance&patient=" + p1, Status: ok, Want: []string{"Condition/cond-1", "AllergyIntolerance/allergy-1"}},
		{Name: "own Observations with Encounter", Scope: rs, Path: "/Observation?patient=" + p1 + "&_include=Observation:encounter", Status: ok, Want: append(ownObservations[:3:3], "Encounter/"+encounter)},
		{Name: "own Observations with DiagnosticReport", Scope: rs, Path: "/Observation?patient=" + p1 + "&_revinclude=DiagnosticReport:result", Status: ok, Want: append(ownObservations[:3:3], "DiagnosticReport/dr-1")},
		{Name: "Medication", Scope: rs, Path: "/Medication/med-1", Status: ok, Want: []string{"Medication/med-1"}},
		{Name: "Medication search", Scope: rs, Path: "/Medication", Status: ok, Want: []string{"Medication/med-1"}},
		{Name: "Practitioner", Scope: rs, Path: "/Practitioner/SMART-1234", Status: ok, Want: []string{"Practitioner/SMART-1234"}},
		{Name: "Practitioner search", Scope: rs, Path: "/Practitioner?name=Careful", Status: ok, Want: []string{"Practitioner/SMART-1234"}},
		{Name: "Organization", Scope: rs, Path: "/Organization/org-1", Status: ok, Want: []string{"Organization/org-1"}},
		{Name: "batch of own data", Scope: rs, Method: http.MethodPost, Path: "", ContentType: fhirJSON, Body: bundle("batch", "GET Patient/"+p1, "GET Observation?patient="+p1, "GET Medication/med-1"), Status: ok,
			Want: append(append([]string{"Patient/" + p1}, ownObservations...), "Medication/med-1")},
		{Name: "v1: own Observations", Scope: v1Read, Path: "/Observation?patient=" + p1, Status: ok, Want: ownObservations},
		{Name: "v1: own Patient", Scope: v1Read, Path: "/Patient/" + p1, Status: ok, Want: []string{"Patient/" + p1}},
		{Name: "lab: own laboratory Observations", Scope: lab, Path: "/Observation?patient=" + p1 + "&category=laboratory", Status: ok, Want: []string{obsGlucose}, Forbid: noVitalSigns},
		{Name: "lab: own laboratory Observation by id", Scope: lab, Path: "/" + obsGlucose, Status: ok, Want: []string{obsGlucose}, Forbid: noVitalSigns},
		{Name: "lab: own compartment, laboratory", Scope: lab, Path: "/Patient/" + p1 + "/Observation?category=laboratory", Status: ok, Want: []string{obsGlucose}, Forbid: noVitalSigns},
		{Name: "mixed: other's laboratory Observation by id", Scope: mixed, Path: "/" + obsOtherLab, Status: ok, Want: []string{obsOtherLab}, Allow: []string{obsOtherLab}},
		{Name: "mixed: other's laboratory Observations by search", Scope: mixed, Path: "/Observation?patient=" + p2 + "&category=laboratory", Status: ok, Want: []string{obsOtherLab}, Allow: []string{obsOtherLab}},
		{Name: "mixed: own vital signs", Scope: mixed, Path: "/" + obsHeart, Status: ok, Want: []string{obsHeart}},

		// Writes of the patient's own data (the ResourceLoader proves what
		// an update, patch or delete changes).
		{Name: "create own Observation", Scope: cruds, Method: http.MethodPost, Path: "/Observation", ContentType: fhirJSON, Body: observation("", p1),
			Status: http.StatusCreated, Want: []string{"Observation/n1"}, Location: BaseURL + "/Observation/n1/_history/1"},
		{Name: "update own Observation", Scope: cruds, Method: http.MethodPut, Path: "/" + obsGlucose, ContentType: fhirJSON, Body: observation("obs-glucose-1", p1),
			Status: ok, Want: []string{obsGlucose}, Location: BaseURL + "/Observation/obs-glucose-1/_history/2"},
		{Name: "patch own Observation", Scope: cruds, Method: http.MethodPatch, Path: "/" + obsHeart, ContentType: jsonPatch, Body: `[{"op":"replace","path":"/status","value":"amended"}]`,
			Status: ok, Want: []string{obsHeart}},
		{Name: "delete own Observation", Scope: cruds, Method: http.MethodDelete, Path: "/" + obsHeart, Status: http.StatusNoContent},
		{Name: "update own Patient", Scope: cruds, Method: http.MethodPut, Path: "/Patient/" + p1, ContentType: fhirJSON, Body: `{"resourceType":"Patient","id":"` + p1 + `","active":true}`,
			Status: ok, Want: []string{"Patient/" + p1}},
		{Name: "transaction of own data", Scope: cruds, Method: http.MethodPost, Path: "", ContentType: fhirJSON,
			Body: bundle("transaction", "POST Observation "+observation("", p1), "PUT "+obsGlucose+" "+observation("obs-glucose-1", p1)), Status: ok,
			Want: []string{"Observation/n1", obsGlucose}},
		{Name: "v1: create own Observation", Scope: v1All, Method: http.MethodPost, Path: "/Observation", ContentType: fhirJSON, Body: observation("", p1),
			Status: http.StatusCreated, Want: []string{"Observation/n1"}},

		// Unrestricted scopes: served as they are, streamed.
		{Name: "user: other Patient", Scope: userRS, Path: "/Patient/" + p2, Status: ok, Want: []string{"Patient/" + p2}, Allow: []string{"Patient/" + p2}, Stream: true},
		{Name: "user: other's Observations", Scope: userRS, Path: "/Observation?patient=" + p2, Status: ok,
			Want: []string{obsOther, obsOtherLab}, Allow: []string{obsOther, obsOtherLab}, Stream: true},
		{Name: "user: every Observation", Scope: userRS, Path: "/Observation", Status: ok,
			Want: []string{obsGlucose, obsHeart, obsOther, obsOtherLab, shared}, Allow: []string{obsOther, obsOtherLab}, Stream: true},
		{Name: "system: every Patient", Scope: sysRS, NoPatient: true, Path: "/Patient", Status: ok,
			Want: []string{"Patient/" + p1, "Patient/" + p2}, Allow: []string{"Patient/" + p2}, Stream: true},
		{Name: "system: other's compartment", Scope: sysRS, NoPatient: true, Path: "/Patient/" + p2 + "/Condition", Status: ok,
			Want: []string{"Condition/cond-other-patient-1"}, Allow: []string{"Condition/cond-other-patient-1"}, Stream: true},
		{Name: "system: _type search", Scope: sysRS, NoPatient: true, Path: "/?_type=Group", Status: ok,
			Want: []string{"Group/group-1", "Group/group-other-patient-1"}, Allow: []string{"Group/group-other-patient-1"}, Stream: true},
		{Name: "metadata", Scope: rs, Path: "/metadata", Status: ok, Want: []string{"CapabilityStatement/"}, Stream: true},
	}
}
