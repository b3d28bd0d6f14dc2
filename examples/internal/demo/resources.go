package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
)

// resource is one FHIR resource of the demo data set, with the fields the
// demo needs to enforce patient compartments.
type resource struct {
	Type    string
	ID      string
	Patient string // the patient whose compartment holds it ("" if none)
	JSON    json.RawMessage
}

// resources is a read-only FHIR data set, indexed by type and id.
type resources struct {
	byType map[string][]*resource
	byKey  map[string]*resource // "Type/id"
}

// maxResourceFile caps the size of one data file.
const maxResourceFile = 1 << 20

// loadResources reads every *.json FHIR resource at the root of fsys.
func loadResources(fsys fs.FS) (*resources, error) {
	files, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, fmt.Errorf("demo: list FHIR resources: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("demo: no FHIR resources (*.json) in the data directory")
	}
	sort.Strings(files)
	rs := &resources{byType: map[string][]*resource{}, byKey: map[string]*resource{}}
	for _, f := range files {
		b, err := readResourceFile(fsys, f)
		if err != nil {
			return nil, err
		}
		var head struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
			Subject      *struct {
				Reference string `json:"reference"`
			} `json:"subject"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			return nil, fmt.Errorf("demo: parse %s: %w", f, err)
		}
		if head.ResourceType == "" || head.ID == "" {
			return nil, fmt.Errorf("demo: %s has no resourceType or id", f)
		}
		r := &resource{Type: head.ResourceType, ID: head.ID, JSON: json.RawMessage(b)}
		switch {
		case head.ResourceType == "Patient":
			r.Patient = head.ID
		case head.Subject != nil && strings.HasPrefix(head.Subject.Reference, "Patient/"):
			r.Patient = strings.TrimPrefix(head.Subject.Reference, "Patient/")
		}
		key := r.Type + "/" + r.ID
		if _, dup := rs.byKey[key]; dup {
			return nil, fmt.Errorf("demo: duplicate resource %s", key)
		}
		rs.byKey[key] = r
		rs.byType[r.Type] = append(rs.byType[r.Type], r)
	}
	return rs, nil
}

// get returns the resource Type/id, or nil.
func (rs *resources) get(typ, id string) *resource { return rs.byKey[typ+"/"+id] }

// search returns the resources of typ, restricted to patient's compartment
// when patient is not "".
func (rs *resources) search(typ, patient string) []*resource {
	var out []*resource
	for _, r := range rs.byType[typ] {
		if patient == "" || r.Patient == patient {
			out = append(out, r)
		}
	}
	return out
}

// readResourceFile reads name from fsys, at most maxResourceFile bytes.
func readResourceFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("demo: read %s: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxResourceFile+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("demo: read %s: %w", name, err)
	case len(b) > maxResourceFile:
		return nil, fmt.Errorf("demo: %s is larger than %d bytes", name, maxResourceFile)
	}
	return b, nil
}
