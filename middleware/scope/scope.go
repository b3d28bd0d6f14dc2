// Package scope parses SMART App Launch scopes (v1 and v2) and decides which
// FHIR REST interactions they allow.
package scope

// Context is the first part of a clinical scope: patient/, user/ or system/.
type Context uint8

// The scope contexts.
const (
	Patient Context = iota + 1
	User
	System
)

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

// Interaction is a FHIR REST interaction, as RequireFHIRScopes derives it
// from a request.
type Interaction uint8

// The FHIR REST interactions and the permission letter each needs:
// r = read, vread, history-instance; s = search, history-type,
// history-system; c = create; u = update, patch; d = delete.
// Operation ($op) needs an explicit rule (see the middleware package).
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
)
