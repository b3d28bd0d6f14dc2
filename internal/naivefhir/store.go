package naivefhir

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/smartauth/smartauth/middleware"
)

// version is one version of a resource; res is nil for a deletion.
type version struct {
	typ, id string
	vid     int
	res     map[string]any
	when    time.Time
}

// record is the version history of one resource, oldest first.
type record struct {
	versions []*version
}

func (r *record) current() *version { return r.versions[len(r.versions)-1] }

// store holds every resource version. Its methods must be called with the
// Server's lock held.
type store struct {
	records map[string]*record // "Type/id"
	log     []*version         // every version, in the order written
	nextID  int
}

func newStore() *store { return &store{records: map[string]*record{}} }

// New returns a Server holding resources, each one FHIR JSON resource with
// a resourceType and an id. A resource without meta.versionId gets "1".
func New(resources ...[]byte) (*Server, error) {
	s := &Server{store: newStore()}
	for i, b := range resources {
		var res map[string]any
		if err := json.Unmarshal(b, &res); err != nil || res == nil {
			return nil, fmt.Errorf("naivefhir: resource %d is not a JSON object: %v", i, err)
		}
		typ, _ := res["resourceType"].(string)
		id, _ := res["id"].(string)
		if typ == "" || id == "" {
			return nil, fmt.Errorf("naivefhir: resource %d has no resourceType or id", i)
		}
		if s.store.records[typ+"/"+id] != nil {
			return nil, fmt.Errorf("naivefhir: duplicate resource %s/%s", typ, id)
		}
		vid := 1
		if meta, ok := res["meta"].(map[string]any); ok {
			if v, err := strconv.Atoi(fmt.Sprint(meta["versionId"])); err == nil && v > 0 {
				vid = v
			}
		}
		s.store.put(typ, id, vid, res, time.Time{})
	}
	return s, nil
}

// Load returns a Server holding every *.json file at the root of fsys.
func Load(fsys fs.FS) (*Server, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, fmt.Errorf("naivefhir: %w", err)
	}
	sort.Strings(names)
	var resources [][]byte
	for _, name := range names {
		b, err := fs.ReadFile(fsys, path.Clean(name))
		if err != nil {
			return nil, fmt.Errorf("naivefhir: %w", err)
		}
		resources = append(resources, b)
	}
	return New(resources...)
}

// put stores a new version of typ/id (res nil: a deletion), setting its
// meta.versionId, and meta.lastUpdated unless when is zero.
func (st *store) put(typ, id string, vid int, res map[string]any, when time.Time) *version {
	if res != nil {
		meta, _ := res["meta"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			res["meta"] = meta
		}
		meta["versionId"] = strconv.Itoa(vid)
		if !when.IsZero() {
			meta["lastUpdated"] = when.UTC().Format(time.RFC3339)
		}
	}
	v := &version{typ: typ, id: id, vid: vid, res: res, when: when}
	key := typ + "/" + id
	rec := st.records[key]
	if rec == nil {
		rec = &record{}
		st.records[key] = rec
	}
	rec.versions = append(rec.versions, v)
	st.log = append(st.log, v)
	return v
}

// get returns the current version of typ/id, or nil; deleted is true if
// the resource existed and was deleted.
func (st *store) get(typ, id string) (v *version, deleted bool) {
	rec := st.records[typ+"/"+id]
	if rec == nil {
		return nil, false
	}
	if cur := rec.current(); cur.res != nil {
		return cur, false
	}
	return nil, true
}

// all returns the current, non-deleted resources of the types (every type
// if types is nil), in the order they were first stored.
func (st *store) all(types map[string]bool) []*version {
	var out []*version
	seen := map[*record]bool{}
	for _, v := range st.log {
		rec := st.records[v.typ+"/"+v.id]
		if seen[rec] || (types != nil && !types[v.typ]) {
			continue
		}
		seen[rec] = true
		if cur := rec.current(); cur.res != nil {
			out = append(out, cur)
		}
	}
	return out
}

// canonicalType returns the stored resource type that equals typ without
// regard to case, or typ itself.
func (st *store) canonicalType(typ string) string {
	for _, v := range st.log {
		if strings.EqualFold(v.typ, typ) {
			return v.typ
		}
	}
	return typ
}

// LoadResource returns the current version of typ/id as JSON, or an error
// wrapping middleware.ErrResourceNotFound if there is none (or it was
// deleted). It makes the Server a middleware.ResourceLoader.
func (s *Server) LoadResource(_ context.Context, typ, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, _ := s.store.get(typ, id)
	if v == nil {
		return nil, fmt.Errorf("naivefhir: %s/%s: %w", typ, id, middleware.ErrResourceNotFound)
	}
	return json.Marshal(v.res)
}

// Loader returns the Server as a middleware.ResourceLoader that reads its
// store, for middleware.WithResourceLoader.
func (s *Server) Loader() middleware.ResourceLoader { return s }

// Versions returns the number of resource versions the Server holds,
// loaded ones and deletions included: it grows with every write, so a test
// can tell whether a request changed anything.
func (s *Server) Versions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.store.log)
}
