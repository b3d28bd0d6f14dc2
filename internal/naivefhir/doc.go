// Package naivefhir is an in-memory FHIR R4 JSON server with no
// authorization at all, for tests: it serves every resource that matches a
// request, to anyone. It stands in for a FHIR server that knows nothing of
// SMART, so that tests can check that what sits in front of it
// (middleware.RequireFHIRScopes, a gateway) lets no data through that the
// scopes do not grant.
//
// It is deliberately naive and permissive, like a careless real server:
// resource types and search parameter names match without regard to case,
// the path is cleaned (dot segments, double and trailing slashes, encoded
// slashes) before routing, absolute references match whatever their base,
// and unknown search parameters are ignored. It implements:
//
//	GET    /metadata                              CapabilityStatement
//	GET    /[type]/[id]                           read
//	GET    /[type]/[id]/_history/[vid]            vread
//	GET    /[type]/[id]/_history, /[type]/_history, /_history   history
//	GET|POST /[type], /[type]/_search             search (POST: form body)
//	GET|POST /, /_search  (?_type=A,B)            system search
//	GET|POST /[ctype]/[cid]/[type|*][/_search]   compartment search
//	GET    /Patient/[id]/$everything              the patient, its compartment, and what that references (but no other Patient)
//	POST   /[type]                                create
//	PUT    /[type]/[id]                           update (or create)
//	PATCH  /[type]/[id]                           JSON Patch
//	DELETE /[type]/[id]                           delete
//	POST   /                                      batch or transaction (processed entry by entry, not atomically)
//
// Search matches _id; reference parameters by reference ("Patient/1"),
// id ("1"), absolute URL, or id with a type modifier (subject:Patient=1);
// token parameters by code, system|code, |code or system|; strings by
// case-insensitive prefix (name, family, given). Values separated by commas
// are alternatives, repeated parameters must all match, :missing and :not
// are understood. A parameter is looked up as the element of the same name
// (patient also as subject, member as member.entity, family and given in
// name); one that no stored resource of the type has is unknown and
// ignored. _include and _revinclude (Type:param), _count, _offset and
// _summary=count work; every other control parameter, chained parameters
// and _has are ignored.
//
// Bundle links, fullUrls and Location headers are absolute URLs under the
// server's base: Server.BaseURL, or if empty one derived from each request
// (scheme and Host, plus any prefix http.StripPrefix removed).
//
// Usage sketch:
//
//	srv, err := naivefhir.Load(os.DirFS("testdata/fhir"))
//	if err != nil { ... }
//	srv.BaseURL = "https://ehr.example.org/fhir"
//	fhir := middleware.RequireFHIRScopes(middleware.WithBasePath("/fhir"),
//		middleware.WithResourceLoader(srv.Loader()))
//	mux.Handle("/fhir/", authn(fhir(http.StripPrefix("/fhir", srv))))
package naivefhir
