package naivefhir

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/smartauth/smartauth/internal/jsonpatch"
)

// body reads the request body (at most maxBody bytes), answering 413 if it
// is larger.
func (q *request) body() ([]byte, bool) {
	if q.r.Body == nil {
		return nil, true
	}
	b, err := io.ReadAll(io.LimitReader(q.r.Body, maxBody+1))
	switch {
	case err != nil:
		q.outcome(http.StatusBadRequest, "invalid", "cannot read body")
		return nil, false
	case len(b) > maxBody:
		q.outcome(http.StatusRequestEntityTooLarge, "too-costly", "body too large")
		return nil, false
	}
	return b, true
}

// resource reads a JSON resource of type typ from the body.
func (q *request) resource(typ string) (map[string]any, bool) {
	b, ok := q.body()
	if !ok {
		return nil, false
	}
	var res map[string]any
	if err := json.Unmarshal(b, &res); err != nil || res == nil {
		q.outcome(http.StatusBadRequest, "invalid", "body is not a JSON resource")
		return nil, false
	}
	if res["resourceType"] != typ {
		q.outcome(http.StatusBadRequest, "invalid", "resourceType does not match the URL")
		return nil, false
	}
	return res, true
}

// read serves a read (vid "") or vread.
func (q *request) read(typ, id, vid string) {
	q.s.mu.Lock()
	defer q.s.mu.Unlock()
	rec := q.s.store.records[typ+"/"+id]
	if rec == nil {
		q.outcome(http.StatusNotFound, "not-found", "unknown resource")
		return
	}
	v := rec.current()
	if vid != "" {
		v = nil
		for _, w := range rec.versions {
			if strconv.Itoa(w.vid) == vid {
				v = w
			}
		}
		if v == nil {
			q.outcome(http.StatusNotFound, "not-found", "unknown version")
			return
		}
	}
	if v.res == nil {
		q.outcome(http.StatusGone, "deleted", "resource deleted")
		return
	}
	q.w.Header().Set("ETag", `W/"`+strconv.Itoa(v.vid)+`"`)
	q.writeJSON(http.StatusOK, v.res)
}

// create serves POST [type].
func (q *request) create(typ string) {
	res, ok := q.resource(typ)
	if !ok {
		return
	}
	q.s.mu.Lock()
	st := q.s.store
	var id string
	for {
		st.nextID++
		id = "n" + strconv.Itoa(st.nextID)
		if st.records[typ+"/"+id] == nil {
			break
		}
	}
	res["id"] = id
	v := st.put(typ, id, 1, res, q.s.now())
	q.s.mu.Unlock()
	q.written(http.StatusCreated, v)
}

// update serves PUT [type]/[id]: a new version, or a create.
func (q *request) update(typ, id string) {
	res, ok := q.resource(typ)
	if !ok {
		return
	}
	if res["id"] != id {
		q.outcome(http.StatusBadRequest, "invalid", "id does not match the URL")
		return
	}
	q.s.mu.Lock()
	status, vid := http.StatusCreated, 1
	if rec := q.s.store.records[typ+"/"+id]; rec != nil {
		status, vid = http.StatusOK, rec.current().vid+1
	}
	v := q.s.store.put(typ, id, vid, res, q.s.now())
	q.s.mu.Unlock()
	q.written(status, v)
}

// patch serves PATCH [type]/[id] with a JSON Patch body.
func (q *request) patch(typ, id string) {
	if ct := q.r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json-patch+json") {
		q.outcome(http.StatusUnsupportedMediaType, "not-supported", "only JSON Patch is supported")
		return
	}
	b, ok := q.body()
	if !ok {
		return
	}
	q.s.mu.Lock()
	cur, _ := q.s.store.get(typ, id)
	if cur == nil {
		q.s.mu.Unlock()
		q.outcome(http.StatusNotFound, "not-found", "unknown resource")
		return
	}
	res, err := jsonpatch.Apply(cur.res, b)
	if err != nil || res["resourceType"] != typ || res["id"] != id {
		q.s.mu.Unlock()
		q.outcome(http.StatusUnprocessableEntity, "processing", "patch cannot be applied")
		return
	}
	v := q.s.store.put(typ, id, cur.vid+1, res, q.s.now())
	q.s.mu.Unlock()
	q.written(http.StatusOK, v)
}

// delete serves DELETE [type]/[id]: 204, also for a resource that does not
// exist (as many servers do).
func (q *request) delete(typ, id string) {
	q.s.mu.Lock()
	if cur, _ := q.s.store.get(typ, id); cur != nil {
		q.s.store.put(typ, id, cur.vid+1, nil, q.s.now())
	}
	q.s.mu.Unlock()
	q.w.WriteHeader(http.StatusNoContent)
}

// written answers a create, update or patch with the resource and its
// versioned Location.
func (q *request) written(status int, v *version) {
	q.w.Header().Set("Location", q.base+"/"+v.typ+"/"+v.id+"/_history/"+strconv.Itoa(v.vid))
	q.w.Header().Set("ETag", `W/"`+strconv.Itoa(v.vid)+`"`)
	q.writeJSON(status, v.res)
}

// history serves the history of typ/id, of typ (id ""), or of the system
// (typ ""), newest first.
func (q *request) history(typ, id string) {
	vs := q.r.URL.Query()
	count := defaultCount
	if n, err := strconv.Atoi(vs.Get("_count")); err == nil && n >= 0 {
		count = min(n, maxCount)
	}
	q.s.mu.Lock()
	defer q.s.mu.Unlock()
	st := q.s.store
	if id != "" && st.records[typ+"/"+id] == nil {
		q.outcome(http.StatusNotFound, "not-found", "unknown resource")
		return
	}
	var versions []*version
	for i := len(st.log) - 1; i >= 0; i-- {
		v := st.log[i]
		if (typ == "" || v.typ == typ) && (id == "" || v.id == id) {
			versions = append(versions, v)
		}
	}
	var entries []any
	for _, v := range versions[:min(count, len(versions))] {
		method, status := http.MethodPut, "200 OK"
		switch {
		case v.res == nil:
			method, status = http.MethodDelete, "204 No Content"
		case v.vid == 1:
			method, status = http.MethodPost, "201 Created"
		}
		e := map[string]any{
			"fullUrl":  q.base + "/" + v.typ + "/" + v.id,
			"request":  map[string]any{"method": method, "url": v.typ + "/" + v.id},
			"response": map[string]any{"status": status, "etag": `W/"` + strconv.Itoa(v.vid) + `"`},
		}
		if v.res != nil {
			e["resource"] = v.res
		}
		entries = append(entries, e)
	}
	self := q.base + "/" + strings.Join(q.segs, "/")
	q.writeJSON(http.StatusOK, bundle("history", len(versions), []any{link("self", self, vs)}, entries))
}
