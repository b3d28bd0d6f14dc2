package scope

// Context is the first part of a clinical scope: patient/, user/ or system/.
type Context uint8

// The scope contexts.
const (
	Patient Context = iota + 1
	User
	System
)

// String returns "patient", "user" or "system" (the scope prefix without
// the slash), or "" for an invalid Context.
func (c Context) String() string {
	switch c {
	case Patient:
		return "patient"
	case User:
		return "user"
	case System:
		return "system"
	}
	return ""
}

// Permission is a set of SMART v2 permission letters, c r u d s.
type Permission uint8

// The SMART v2 permissions. v1 read = Read|Search, write =
// Create|Update|Delete, * = all five.
const (
	Create Permission = 1 << iota
	Read
	Update
	Delete
	Search
)

// String returns the permission letters in the canonical order "cruds",
// e.g. "rs" for Read|Search, or "" for no permission.
func (p Permission) String() string {
	const letters = "cruds"
	var b [len(letters)]byte
	n := 0
	for i := range len(letters) {
		if p&(1<<i) != 0 {
			b[n] = letters[i]
			n++
		}
	}
	return string(b[:n])
}

// Interaction is a FHIR REST interaction, as RequireFHIRScopes derives it
// from a request.
type Interaction uint8

// The FHIR REST interactions and the permission letter each needs:
// r = read, vread, history-instance; s = search, history-type,
// history-system; c = create; u = update, patch; d = delete.
// Operation ($op) needs an explicit rule (see the middleware package);
// capabilities (GET /metadata) needs no scope; batch/transaction (POST to
// the base) must be checked entry by entry.
const (
	InteractionRead Interaction = iota + 1
	InteractionVRead
	InteractionHistoryInstance
	InteractionSearch
	InteractionHistoryType
	InteractionHistorySystem
	InteractionCreate
	InteractionUpdate
	InteractionPatch
	InteractionDelete
	InteractionOperation
	InteractionCapabilities
	InteractionBatch
)

var interactionNames = [...]string{
	InteractionRead:            "read",
	InteractionVRead:           "vread",
	InteractionHistoryInstance: "history-instance",
	InteractionSearch:          "search",
	InteractionHistoryType:     "history-type",
	InteractionHistorySystem:   "history-system",
	InteractionCreate:          "create",
	InteractionUpdate:          "update",
	InteractionPatch:           "patch",
	InteractionDelete:          "delete",
	InteractionOperation:       "operation",
	InteractionCapabilities:    "capabilities",
	InteractionBatch:           "batch",
}

// String returns the FHIR name of the interaction ("read", "vread",
// "history-instance", "search", ...), or "" for an invalid Interaction.
func (i Interaction) String() string {
	if int(i) < len(interactionNames) {
		return interactionNames[i]
	}
	return ""
}

// PermissionFor returns the permission letter interaction i needs: Read for
// read, vread and history-instance; Search for search, history-type and
// history-system; Create for create; Update for update and patch; Delete
// for delete. It returns 0 (no scope can grant it) for operation,
// capabilities, batch and invalid interactions.
func PermissionFor(i Interaction) Permission {
	switch i {
	case InteractionRead, InteractionVRead, InteractionHistoryInstance:
		return Read
	case InteractionSearch, InteractionHistoryType, InteractionHistorySystem:
		return Search
	case InteractionCreate:
		return Create
	case InteractionUpdate, InteractionPatch:
		return Update
	case InteractionDelete:
		return Delete
	}
	return 0
}
