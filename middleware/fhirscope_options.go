package middleware

import (
	"log/slog"
	"strings"
)

// DefaultMaxBodySize is the largest request body (search form, resource,
// batch) RequireFHIRScopes reads and the largest response it buffers to
// verify, unless WithMaxBodySize sets another: 16 MiB.
const DefaultMaxBodySize = 16 << 20

// FHIRScopeOption configures RequireFHIRScopes.
type FHIRScopeOption interface {
	applyFHIRScope(*fhirScopeOptions)
}

// fhirScopeOptionFunc adapts a function to FHIRScopeOption.
type fhirScopeOptionFunc func(*fhirScopeOptions)

func (f fhirScopeOptionFunc) applyFHIRScope(o *fhirScopeOptions) { f(o) }

type fhirScopeOptions struct {
	basePath      string
	baseURL       string
	operationRule OperationRule
	errorHandler  ErrorHandler
	loader        ResourceLoader
	byHandler     bool
	// searchesByHandler: the handler restricts its searches itself.
	searchesByHandler bool
	maxBody           int64
	logger            *slog.Logger
}

func newFHIRScopeOptions(opts []FHIRScopeOption) fhirScopeOptions {
	o := fhirScopeOptions{
		operationRule: DefaultOperationRule,
		errorHandler:  DefaultErrorHandler,
		maxBody:       DefaultMaxBodySize,
	}
	for _, opt := range opts {
		if opt != nil {
			opt.applyFHIRScope(&o)
		}
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}

// WithBasePath sets the path of the FHIR base URL on this server, e.g.
// "/fhir" for https://ehr.example.org/fhir; requests outside it are refused.
// Zero value: "", the FHIR base is the root of the paths the middleware
// sees (use that when the mux strips the prefix, e.g. with
// http.StripPrefix).
func WithBasePath(p string) FHIRScopeOption {
	return fhirScopeOptionFunc(func(o *fhirScopeOptions) { o.basePath = p })
}

// WithBaseURL sets the public FHIR base URL of the server, e.g.
// "https://ehr.example.org/fhir". Absolute references
// ("https://ehr.example.org/fhir/Patient/123"), in search parameters and in
// resources, name a resource of this server only if they start with it.
// Zero value: "", absolute references never name the patient in context —
// they may point to another server, where the same id is someone else —
// so a search or resource that names a patient only by an absolute
// reference is refused under patient/ scopes.
func WithBaseURL(u string) FHIRScopeOption {
	return fhirScopeOptionFunc(func(o *fhirScopeOptions) { o.baseURL = strings.TrimRight(u, "/") })
}

// WithOperationRule replaces DefaultOperationRule. A nil rule restores the
// default.
func WithOperationRule(rule OperationRule) FHIRScopeOption {
	return fhirScopeOptionFunc(func(o *fhirScopeOptions) {
		if rule == nil {
			rule = DefaultOperationRule
		}
		o.operationRule = rule
	})
}

// WithResourceLoader gives RequireFHIRScopes a way to read the current
// version of a resource, which it needs to allow an update, patch or
// delete under a restricted authorization (patient/ or constrained
// scopes): the resource being changed must itself be permitted. Zero value
// (or nil): no loader; such requests are refused with 403, except where
// the type alone settles it (a type outside the Patient compartment under
// an unconstrained patient/ scope, or the patient in context's own Patient
// resource).
func WithResourceLoader(l ResourceLoader) FHIRScopeOption {
	return fhirScopeOptionFunc(func(o *fhirScopeOptions) { o.loader = l })
}

// WithEnforcementByHandler is the opt-out: the next handler enforces the
// request's Access itself. RequireFHIRScopes then still makes the
// request-level decision — the scopes, the patient named by the path or by
// search parameters, the entries of a batch — but reads no resource body
// and verifies no response: the handler must check every resource it
// serves or writes with AccessFrom(ctx).Permits, or restrict its searches
// to AccessFrom(ctx).Alternatives. Zero value (option not given): the
// middleware enforces everything itself.
func WithEnforcementByHandler() FHIRScopeOption {
	return fhirScopeOptionFunc(func(o *fhirScopeOptions) { o.byHandler = true })
}

// WithSearchesFilteredByHandler tells RequireFHIRScopes that the next
// handler restricts every search to what the token permits — to
// AccessFrom(ctx).Alternatives, or by keeping only the resources
// Access.Permits and counting totals over those — so that a restricted
// search need not restrict itself. Responses are still verified.
//
// Zero value (option not given): a restricted search or history must ask,
// by its own path and parameters, only for data one Alternative permits —
// the patient's compartment path (Patient/[id]/Observation), a patient
// reference parameter naming only the patient in context
// (Observation?patient=[id], Patient?_id=[id]; types outside the Patient
// compartment need none), and each constraint as a parameter with only the
// constraint's value — or it is refused with 403. Against a server that
// does not filter by itself (a gateway's upstream) anything else would be
// an oracle: a search withheld or served depending on whether someone
// else's data matches, a Bundle total counting it.
func WithSearchesFilteredByHandler() FHIRScopeOption {
	return fhirScopeOptionFunc(func(o *fhirScopeOptions) { o.searchesByHandler = true })
}

// WithMaxBodySize caps the request bodies RequireFHIRScopes reads (a POST
// _search form, a resource to create or update, a batch) and the
// responses it buffers for verification. A larger request is refused with
// 413; a larger response is not served (500). Zero or negative:
// DefaultMaxBodySize.
func WithMaxBodySize(n int64) FHIRScopeOption {
	return fhirScopeOptionFunc(func(o *fhirScopeOptions) {
		if n <= 0 {
			n = DefaultMaxBodySize
		}
		o.maxBody = n
	})
}

// WithAuditLogger sets the logger of RequireFHIRScopes' audit events: a
// Warn line "smartauth: response withheld" when a response held a
// resource the scopes do not permit (or could not be verified), and a
// Debug line for every refused request. The events carry the reason, the
// interaction, the resource type and the client ID — never a resource, an
// id or a token. Zero value (or nil): slog.Default().
func WithAuditLogger(l *slog.Logger) FHIRScopeOption {
	return fhirScopeOptionFunc(func(o *fhirScopeOptions) { o.logger = l })
}
