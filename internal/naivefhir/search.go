package naivefhir

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Paging defaults.
const (
	defaultCount = 100
	maxCount     = 1000
)

// param is one search parameter occurrence: name (lower case), modifier
// (as given) and its comma-separated alternatives.
type param struct {
	name, modifier string
	values         []string
}

// searchQuery is a parsed search.
type searchQuery struct {
	raw        url.Values // every parameter, for links
	params     []param
	types      []string // _type
	include    []string
	revinclude []string
	count      int
	offset     int
}

// params returns the request's search parameters: the URL query and, for
// a POST, a form body.
func (q *request) params() (url.Values, bool) {
	vs := q.r.URL.Query()
	if q.method != http.MethodPost {
		return vs, true
	}
	if ct, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		return vs, true
	}
	b, ok := q.body()
	if !ok {
		return nil, false
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		q.outcome(http.StatusBadRequest, "invalid", "malformed form body")
		return nil, false
	}
	for k, v := range form {
		vs[k] = append(vs[k], v...)
	}
	return vs, true
}

func parseSearch(vs url.Values) *searchQuery {
	sq := &searchQuery{raw: vs, count: defaultCount}
	for key, values := range vs {
		name, modifier, _ := strings.Cut(key, ":")
		name = strings.ToLower(name)
		for _, v := range values {
			switch name {
			case "_type":
				sq.types = append(sq.types, strings.Split(v, ",")...)
			case "_include":
				sq.include = append(sq.include, v)
			case "_revinclude":
				sq.revinclude = append(sq.revinclude, v)
			case "_count":
				if n, err := strconv.Atoi(v); err == nil && n >= 0 {
					sq.count = min(n, maxCount)
				}
			case "_summary":
				if v == "count" {
					sq.count = 0
				}
			case "_offset":
				if n, err := strconv.Atoi(v); err == nil && n >= 0 {
					sq.offset = n
				}
			default:
				if (strings.HasPrefix(name, "_") && name != "_id") || strings.Contains(name, ".") {
					continue // other control parameters, chains, _has: ignored
				}
				sq.params = append(sq.params, param{name: name, modifier: modifier, values: strings.Split(v, ",")})
			}
		}
	}
	return sq
}

// search serves a search of types (nil: every type, or _type), within the
// compartment ctype/cid if ctype is not "".
func (q *request) search(types []string, ctype, cid string) {
	vs, ok := q.params()
	if !ok {
		return
	}
	sq := parseSearch(vs)
	if types == nil {
		types = sq.types
	}
	q.s.mu.Lock()
	defer q.s.mu.Unlock()
	st := q.s.store
	var typeSet map[string]bool
	if types != nil {
		typeSet = map[string]bool{}
		for _, t := range types {
			typeSet[st.canonicalType(t)] = true
		}
	}
	known := knownParams{st: st}
	var matches []*version
	for _, v := range st.all(typeSet) {
		if ctype != "" && !referencesKey(v.res, ctype+"/"+cid) {
			continue
		}
		if sq.matches(v, &known) {
			matches = append(matches, v)
		}
	}

	total := len(matches)
	page := matches[min(sq.offset, total):min(sq.offset+sq.count, total)]
	included := st.includes(page, sq.include, sq.revinclude)
	self := q.base + "/" + strings.Join(q.segs, "/")
	links := []any{link("self", self, vs)}
	if sq.offset+sq.count < total && sq.count > 0 {
		next := url.Values{}
		for k, v := range vs {
			next[k] = v
		}
		next.Set("_offset", strconv.Itoa(sq.offset+sq.count))
		next.Set("_count", strconv.Itoa(sq.count))
		links = append(links, link("next", self, next))
	}
	entries := make([]any, 0, len(page)+len(included))
	for _, v := range page {
		entries = append(entries, q.entry(v, "match"))
	}
	for _, v := range included {
		entries = append(entries, q.entry(v, "include"))
	}
	q.writeJSON(http.StatusOK, bundle("searchset", total, links, entries))
}

func link(relation, u string, vs url.Values) map[string]any {
	if len(vs) > 0 {
		u += "?" + vs.Encode()
	}
	return map[string]any{"relation": relation, "url": u}
}

func bundle(typ string, total int, links, entries []any) map[string]any {
	b := map[string]any{"resourceType": "Bundle", "type": typ, "link": links}
	if typ == "searchset" || typ == "history" {
		b["total"] = total
	}
	if len(entries) > 0 {
		b["entry"] = entries
	}
	return b
}

// entry is a searchset entry of v.
func (q *request) entry(v *version, mode string) map[string]any {
	return map[string]any{
		"fullUrl":  q.base + "/" + v.typ + "/" + v.id,
		"resource": v.res,
		"search":   map[string]any{"mode": mode},
	}
}

// knownParams remembers which parameters some stored resource of a type
// has: the others are unknown, and ignored.
type knownParams struct {
	st    *store
	cache map[[2]string]bool
}

func (k *knownParams) known(typ, name string) bool {
	if name == "_id" {
		return true
	}
	key := [2]string{typ, name}
	if ok, found := k.cache[key]; found {
		return ok
	}
	if k.cache == nil {
		k.cache = map[[2]string]bool{}
	}
	ok := false
	for _, v := range k.st.all(map[string]bool{typ: true}) {
		if len(elements(v.res, name)) > 0 {
			ok = true
			break
		}
	}
	k.cache[key] = ok
	return ok
}

// matches reports whether v matches every known parameter.
func (sq *searchQuery) matches(v *version, known *knownParams) bool {
	for _, p := range sq.params {
		if !known.known(v.typ, p.name) {
			continue
		}
		if !matchParam(v.res, p) {
			return false
		}
	}
	return true
}

// includes returns the resources _include and _revinclude add to page,
// each once and none already in page.
func (st *store) includes(page []*version, include, revinclude []string) []*version {
	if len(include) == 0 && len(revinclude) == 0 {
		return nil
	}
	have := map[string]bool{}
	for _, v := range page {
		have[v.typ+"/"+v.id] = true
	}
	var out []*version
	add := func(v *version) {
		if key := v.typ + "/" + v.id; !have[key] {
			have[key] = true
			out = append(out, v)
		}
	}
	for _, inc := range include {
		src, name, target := splitInclude(inc)
		for _, v := range page {
			if v.typ != src && src != "*" {
				continue
			}
			for _, key := range refKeys(v.res, name) {
				t, id, _ := strings.Cut(key, "/")
				if target != "" && t != target {
					continue
				}
				if w, _ := st.get(t, id); w != nil {
					add(w)
				}
			}
		}
	}
	pageKeys := map[string]bool{}
	for _, v := range page {
		pageKeys[v.typ+"/"+v.id] = true
	}
	for _, inc := range revinclude {
		src, name, target := splitInclude(inc)
		for _, v := range st.all(map[string]bool{src: true}) {
			for _, key := range refKeys(v.res, name) {
				if pageKeys[key] && (target == "" || strings.HasPrefix(key, target+"/")) {
					add(v)
					break
				}
			}
		}
	}
	return out
}

// splitInclude splits "Type:param[:Target]".
func splitInclude(s string) (src, name, target string) {
	src, rest, _ := strings.Cut(s, ":")
	name, target, _ = strings.Cut(rest, ":")
	return src, strings.ToLower(name), target
}

// refKeys returns "Type/id" of every reference the parameter name ("*":
// every top-level reference) of res holds.
func refKeys(res map[string]any, name string) []string {
	var vals []any
	if name == "*" {
		for _, v := range res {
			vals = append(vals, v)
		}
	} else {
		vals = elements(res, name)
	}
	var out []string
	for _, v := range flatten(vals) {
		if key, ok := referenceKey(v); ok {
			out = append(out, key)
		}
	}
	return out
}

// referencesKey reports whether a top-level element of res references key
// ("Type/id").
func referencesKey(res map[string]any, key string) bool {
	for _, k := range refKeys(res, "*") {
		if k == key {
			return true
		}
	}
	return false
}

// everything serves Patient/id/$everything: the patient, every resource
// that references it at the top level, and the resources these reference
// other than Patients.
func (q *request) everything(id string) {
	q.s.mu.Lock()
	defer q.s.mu.Unlock()
	st := q.s.store
	p, _ := st.get("Patient", id)
	if p == nil {
		q.outcome(http.StatusNotFound, "not-found", "unknown patient")
		return
	}
	page := []*version{p}
	for _, v := range st.all(nil) {
		if v != p && referencesKey(v.res, "Patient/"+id) {
			page = append(page, v)
		}
	}
	var referenced []*version
	for _, v := range st.includes(page, []string{"*:*"}, nil) {
		if v.typ != "Patient" {
			referenced = append(referenced, v)
		}
	}
	entries := make([]any, 0, len(page)+len(referenced))
	for _, v := range append(page, referenced...) {
		entries = append(entries, q.entry(v, "match"))
	}
	self := q.base + "/" + strings.Join(q.segs, "/")
	q.writeJSON(http.StatusOK, bundle("searchset", len(entries), []any{link("self", self, nil)}, entries))
}
