package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartauth/smartauth/middleware/scope"
)

// ErrNotFHIRRequest is returned (wrapped) by ParseFHIRRequest for a request
// that is not a FHIR REST interaction it knows: a path outside the base
// path, an unknown path shape, an invalid resource type, id or operation
// name, an empty or dot segment, or a method the shape does not take.
// RequireFHIRScopes refuses such requests with 403 insufficient_scope.
var ErrNotFHIRRequest = errors.New("smartauth: not a FHIR REST request")

// The errors of ParseFHIRRequest, allocated once.
var (
	errFHIRNoURL        = fmt.Errorf("%w: no URL", ErrNotFHIRRequest)
	errFHIROutsideBase  = fmt.Errorf("%w: path outside the FHIR base path", ErrNotFHIRRequest)
	errFHIRMethod       = fmt.Errorf("%w: method not allowed for this path", ErrNotFHIRRequest)
	errFHIRPath         = fmt.Errorf("%w: unknown path shape", ErrNotFHIRRequest)
	errFHIRSegment      = fmt.Errorf("%w: empty, dot or encoded-slash path segment", ErrNotFHIRRequest)
	errFHIRResourceType = fmt.Errorf("%w: invalid resource type", ErrNotFHIRRequest)
	errFHIRID           = fmt.Errorf("%w: invalid id", ErrNotFHIRRequest)
	errFHIROperation    = fmt.Errorf("%w: invalid operation name", ErrNotFHIRRequest)
)

// maxFHIRSegments is the number of path segments of the longest shape,
// [type]/[id]/_history/[vid]/$[op].
const maxFHIRSegments = 5

// FHIRRequest is the FHIR REST interaction a request performs, as
// ParseFHIRRequest derives it from the method and path.
type FHIRRequest struct {
	// Interaction is the FHIR interaction: read, vread, history-instance,
	// search (type, system or compartment), history-type, history-system,
	// create, update, patch, delete, operation, capabilities or batch
	// (batch or transaction: POST to the base).
	Interaction scope.Interaction
	// ResourceType is the type the interaction is on, "" for system-level
	// interactions (system search and history, batch, capabilities,
	// system operations). For a compartment search it is the type searched
	// ("Observation" in /Patient/1/Observation), or "*" for a search of
	// every type in the compartment (/Patient/1/*).
	ResourceType string
	// ID is the resource id of an instance-level interaction, else "".
	ID string
	// VersionID is the version of a vread (or of an operation on a
	// version), else "".
	VersionID string
	// Operation is the name of the operation without "$" (e.g.
	// "everything"), for InteractionOperation only.
	Operation string
	// CompartmentType and CompartmentID name the compartment of a
	// compartment search (/Patient/1/Observation: "Patient", "1"), else "".
	CompartmentType string
	CompartmentID   string
}

// PatientID returns the id of the Patient the request explicitly names, if
// any: the id of an instance-level interaction (or operation) on Patient, or
// the id of a Patient compartment. It returns "" for every other request,
// including searches with a patient parameter.
func (fr FHIRRequest) PatientID() string {
	if fr.CompartmentType == "Patient" {
		return fr.CompartmentID
	}
	if fr.ResourceType == "Patient" {
		return fr.ID
	}
	return ""
}

// ParseFHIRRequest derives the FHIR REST interaction of r from its method
// and its URL path relative to basePath (the path of the FHIR base URL on
// this server, e.g. "/fhir"; "" or "/" if the FHIR base is the root, or the
// mux already stripped it). HEAD and OPTIONS are classified like GET. The
// shapes it knows ([base] is basePath):
//
//	GET    [base]/metadata                       capabilities
//	POST   [base] (or [base]/)                   batch (batch or transaction)
//	GET    [base] or GET|POST [base]/_search     search (system, ResourceType "")
//	GET    [base]/_history                       history-system
//	GET    [base]/[type]                         search
//	GET|POST [base]/[type]/_search               search
//	GET    [base]/[type]/_history                history-type
//	POST   [base]/[type]                         create
//	PUT|PATCH|DELETE [base]/[type]               update, patch, delete (conditional)
//	GET    [base]/[type]/[id]                    read
//	PUT|PATCH|DELETE [base]/[type]/[id]          update, patch, delete
//	GET    [base]/[type]/[id]/_history           history-instance
//	GET    [base]/[type]/[id]/_history/[vid]     vread
//	GET    [base]/[ctype]/[cid]/[type]           search (compartment; [type] may be "*")
//	GET|POST [base]/[ctype]/[cid]/[type]/_search search (compartment)
//	GET|POST [base]/$[op], [base]/[type]/$[op], [base]/[type]/[id]/$[op],
//	         [base]/[type]/[id]/_history/[vid]/$[op]          operation
//
// Resource types must look like FHIR type names ([A-Z][A-Za-z]*), ids and
// version ids must be FHIR ids ([A-Za-z0-9\-.]{1,64}, but not "." or
// ".."), operation names must be letters, digits, '-', '_' or '.'. An empty
// segment (as in "//" or a trailing "/" after anything but the base), a
// percent-encoded "/" in a segment, or anything else returns an error
// wrapping ErrNotFHIRRequest. ParseFHIRRequest does not look at the query or
// the body, and does not allocate for well-formed requests.
func ParseFHIRRequest(r *http.Request, basePath string) (FHIRRequest, error) {
	if r == nil || r.URL == nil {
		return FHIRRequest{}, errFHIRNoURL
	}
	path, escaped := r.URL.Path, false
	if r.URL.RawPath != "" {
		// The path had escapes that differ from the default encoding
		// (e.g. %2F): split the escaped form so that an encoded "/" cannot
		// create or hide a segment.
		path, escaped = r.URL.EscapedPath(), true
	}
	rel, ok := fhirRelativePath(path, basePath)
	if !ok {
		return FHIRRequest{}, errFHIROutsideBase
	}
	var segs [maxFHIRSegments]string
	n := 0
	if rel != "" {
		for rel != "" {
			if n == maxFHIRSegments {
				return FHIRRequest{}, errFHIRPath
			}
			seg, rest, more := strings.Cut(rel, "/")
			if escaped && strings.IndexByte(seg, '%') >= 0 {
				u, err := url.PathUnescape(seg)
				if err != nil || strings.IndexByte(u, '/') >= 0 {
					return FHIRRequest{}, errFHIRSegment
				}
				seg = u
			}
			if seg == "" || seg == "." || seg == ".." {
				return FHIRRequest{}, errFHIRSegment
			}
			segs[n] = seg
			n++
			rel = rest
			if more && rel == "" {
				return FHIRRequest{}, errFHIRSegment // trailing slash
			}
		}
	}
	method := r.Method
	switch method {
	case "", http.MethodHead, http.MethodOptions:
		method = http.MethodGet
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return FHIRRequest{}, errFHIRMethod
	}
	return classifyFHIR(method, segs[:n])
}

// fhirRelativePath returns path relative to basePath without its leading "/"
// ("" for the base itself, with or without a trailing "/").
func fhirRelativePath(path, basePath string) (string, bool) {
	basePath = strings.TrimRight(basePath, "/")
	if basePath != "" && basePath[0] != '/' {
		// A base path given without its leading slash.
		if len(path) == 0 || path[0] != '/' || !strings.HasPrefix(path[1:], basePath) {
			return "", false
		}
		path = path[1+len(basePath):]
	} else {
		rest, ok := strings.CutPrefix(path, basePath)
		if !ok {
			return "", false
		}
		path = rest
	}
	switch {
	case path == "" || path == "/":
		return "", true
	case path[0] != '/':
		return "", false // "/fhirx" is not under "/fhir"
	}
	return path[1:], true
}

// classifyFHIR maps method (GET, POST, PUT, PATCH or DELETE) and the path
// segments to an interaction.
func classifyFHIR(method string, segs []string) (FHIRRequest, error) {
	get, post := method == http.MethodGet, method == http.MethodPost
	getOrPost := get || post
	switch len(segs) {
	case 0:
		switch method {
		case http.MethodGet:
			return FHIRRequest{Interaction: scope.InteractionSearch}, nil
		case http.MethodPost:
			return FHIRRequest{Interaction: scope.InteractionBatch}, nil
		}
		return FHIRRequest{}, errFHIRMethod
	case 1:
		s := segs[0]
		switch {
		case s == "metadata":
			return fhirOnlyIf(get, FHIRRequest{Interaction: scope.InteractionCapabilities})
		case s == "_history":
			return fhirOnlyIf(get, FHIRRequest{Interaction: scope.InteractionHistorySystem})
		case s == "_search":
			return fhirOnlyIf(getOrPost, FHIRRequest{Interaction: scope.InteractionSearch})
		case s[0] == '$':
			return fhirOperation(getOrPost, s, FHIRRequest{})
		case !scope.IsResourceType(s):
			return FHIRRequest{}, errFHIRResourceType
		}
		fr := FHIRRequest{ResourceType: s}
		switch method {
		case http.MethodGet:
			fr.Interaction = scope.InteractionSearch
		case http.MethodPost:
			fr.Interaction = scope.InteractionCreate
		case http.MethodPut:
			fr.Interaction = scope.InteractionUpdate
		case http.MethodPatch:
			fr.Interaction = scope.InteractionPatch
		case http.MethodDelete:
			fr.Interaction = scope.InteractionDelete
		}
		return fr, nil
	}

	// [type]/...
	if !scope.IsResourceType(segs[0]) {
		return FHIRRequest{}, errFHIRResourceType
	}
	typ, s := segs[0], segs[1]
	if len(segs) == 2 {
		switch {
		case s == "_search":
			return fhirOnlyIf(getOrPost, FHIRRequest{Interaction: scope.InteractionSearch, ResourceType: typ})
		case s == "_history":
			return fhirOnlyIf(get, FHIRRequest{Interaction: scope.InteractionHistoryType, ResourceType: typ})
		case s[0] == '$':
			return fhirOperation(getOrPost, s, FHIRRequest{ResourceType: typ})
		case !isFHIRPathID(s):
			return FHIRRequest{}, errFHIRID
		}
		fr := FHIRRequest{ResourceType: typ, ID: s}
		switch method {
		case http.MethodGet:
			fr.Interaction = scope.InteractionRead
		case http.MethodPut:
			fr.Interaction = scope.InteractionUpdate
		case http.MethodPatch:
			fr.Interaction = scope.InteractionPatch
		case http.MethodDelete:
			fr.Interaction = scope.InteractionDelete
		default:
			return FHIRRequest{}, errFHIRMethod
		}
		return fr, nil
	}

	// [type]/[id]/...
	if !isFHIRPathID(s) {
		return FHIRRequest{}, errFHIRID
	}
	id, s := s, segs[2]
	instance := FHIRRequest{ResourceType: typ, ID: id}
	switch {
	case s == "_history":
		switch len(segs) {
		case 3:
			instance.Interaction = scope.InteractionHistoryInstance
			return fhirOnlyIf(get, instance)
		case 4, 5:
			if !isFHIRPathID(segs[3]) {
				return FHIRRequest{}, errFHIRID
			}
			instance.VersionID = segs[3]
			if len(segs) == 5 {
				if segs[4][0] != '$' {
					return FHIRRequest{}, errFHIRPath
				}
				return fhirOperation(getOrPost, segs[4], instance)
			}
			instance.Interaction = scope.InteractionVRead
			return fhirOnlyIf(get, instance)
		}
	case s[0] == '$':
		if len(segs) != 3 {
			return FHIRRequest{}, errFHIRPath
		}
		return fhirOperation(getOrPost, s, instance)
	case s == "*" || scope.IsResourceType(s):
		fr := FHIRRequest{Interaction: scope.InteractionSearch, ResourceType: s, CompartmentType: typ, CompartmentID: id}
		switch {
		case len(segs) == 3:
			return fhirOnlyIf(get, fr)
		case len(segs) == 4 && segs[3] == "_search":
			return fhirOnlyIf(getOrPost, fr)
		}
	}
	return FHIRRequest{}, errFHIRPath
}

// fhirOnlyIf returns fr if the method is acceptable, else errFHIRMethod.
func fhirOnlyIf(ok bool, fr FHIRRequest) (FHIRRequest, error) {
	if !ok {
		return FHIRRequest{}, errFHIRMethod
	}
	return fr, nil
}

// fhirOperation returns fr as an operation named by seg ("$name").
func fhirOperation(getOrPost bool, seg string, fr FHIRRequest) (FHIRRequest, error) {
	name := seg[1:]
	if !isFHIROperationName(name) {
		return FHIRRequest{}, errFHIROperation
	}
	fr.Interaction, fr.Operation = scope.InteractionOperation, name
	return fhirOnlyIf(getOrPost, fr)
}

// isFHIRPathID reports whether s is a FHIR id, [A-Za-z0-9\-\.]{1,64}, other
// than the path traversal segments "." and "..".
func isFHIRPathID(s string) bool {
	if s == "" || len(s) > 64 || s == "." || s == ".." {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !isFHIRAlnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// isFHIROperationName reports whether s is an operation name: 1 to 64 letters,
// digits, '-', '_' or '.', starting with a letter.
func isFHIROperationName(s string) bool {
	if s == "" || len(s) > 64 || !isFHIRAlpha(s[0]) {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !isFHIRAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isFHIRAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

func isFHIRAlnum(c byte) bool { return isFHIRAlpha(c) || ('0' <= c && c <= '9') }
