package pgstore

import (
	"fmt"
	"strings"

	"github.com/smartauth/smartauth/tokenstore"
)

// queries holds the SQL of one Store, with its table names filled in.
// Placeholders in the templates: G grants, T refresh_tokens, O
// one_time_keys, C codes, L launches (written {G}, {T}, {O}, {C}, {L}).
type queries struct {
	createGrant string
	rotate      string // fast path: one statement
	lockToken   string // slow path, in a transaction
	revokeReuse string
	acceptFirst string
	acceptRetry string
	lookup      string
	grant       string
	revoke      string
	useOnce     string
	sweepTokens string
	sweepGrants string
	sweepOnce   string

	createCode          string
	readCode            string
	exchangeCode        string // rule 6, alone or in a transaction
	lockCode            string // slow path, in a transaction
	useCode             string
	revokeOrPlaceholder string
	createLaunch        string
	consumeLaunch       string
	sweepCodes          string
	sweepLaunches       string
}

// grantColumns are the columns of a grant, in the order scanGrant reads
// them (after the ID).
const grantColumns = `g.client_id, g.subject, g.fhir_user, g.scope, g.launch_context,
	g.issued_at, g.expires_at, g.idle_timeout_us, g.kind, g.revoked_at`

// codeColumns are the columns of a code, in the order scanCode reads them.
const codeColumns = `client_id, redirect_uri, code_challenge, scope, subject, fhir_user,
	launch_context, nonce, auth_time, issued_at, expires_at, used_at`

func newQueries(n names) queries {
	r := strings.NewReplacer("{G}", n.grants, "{T}", n.tokens, "{O}", n.onceKeys,
		"{C}", n.codes, "{L}", n.launches, "{grantColumns}", grantColumns, "{codeColumns}", codeColumns,
		"{retention}", fmt.Sprintf("interval '%d microseconds'", tokenstore.CodeRetention.Microseconds()))
	return queries{
		// The grant and its first token in one statement: a duplicate ID or
		// hash fails it (unique violation) and nothing is written.
		createGrant: r.Replace(`
WITH g AS (
	INSERT INTO {G} (id, client_id, subject, fhir_user, scope, launch_context,
		issued_at, expires_at, idle_timeout_us, kind, revoked_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	RETURNING id
)
INSERT INTO {T} (hash, grant_id, generation, issued_at, expires_at, used_at)
SELECT $12, id, $13, $14, $15, $16 FROM g`),

		// The common case of Rotate in one statement: the presented token
		// is unused, valid and the client's; mark it used and insert Next.
		// The row lock of the UPDATE makes concurrent presenters wait, and
		// then find used_at set: they match no row. A Next that exists
		// fails the statement (unique violation): nothing is written.
		// Zero rows: some rule applies, the slow path classifies it.
		rotate: r.Replace(`
WITH used AS (
	UPDATE {T} AS t SET used_at = $4::timestamptz, accepted_at = clock_timestamp(), successor = $2
	FROM {G} AS g
	WHERE t.hash = $1 AND t.used_at IS NULL AND $4::timestamptz < t.expires_at
		AND g.id = t.grant_id AND g.client_id = $3 AND g.revoked_at IS NULL
		AND $4::timestamptz < g.expires_at
	RETURNING t.grant_id, t.generation, {grantColumns}
), next AS (
	INSERT INTO {T} (hash, grant_id, generation, issued_at, expires_at)
	SELECT $2, grant_id, generation + 1, $4::timestamptz,
		CASE WHEN idle_timeout_us > 0
			THEN LEAST($4::timestamptz + idle_timeout_us * interval '1 microsecond', expires_at)
			ELSE expires_at END
	FROM used
	RETURNING generation, expires_at
)
SELECT used.grant_id, next.generation, next.expires_at,
	used.client_id, used.subject, used.fhir_user, used.scope, used.launch_context,
	used.issued_at, used.expires_at, used.idle_timeout_us, used.kind, used.revoked_at
FROM used, next`),

		// The slow path starts by locking the presented token's row: every
		// other presentation of it waits until the transaction ends.
		lockToken: r.Replace(`
SELECT t.grant_id, t.generation, t.issued_at, t.expires_at, t.used_at,
	t.accepted_at, t.successor, {grantColumns}
FROM {T} AS t JOIN {G} AS g ON g.id = t.grant_id
WHERE t.hash = $1
FOR NO KEY UPDATE OF t`),

		revokeReuse: r.Replace(`UPDATE {G} SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`),

		// Rule 6 on the slow path: insert Next ($2), then mark the
		// presented token ($1) used. A Next that exists fails the
		// statement (unique violation).
		acceptFirst: r.Replace(`
WITH next AS (
	INSERT INTO {T} (hash, grant_id, generation, issued_at, expires_at)
	VALUES ($2, $3, $4, $5, $6)
	RETURNING hash
)
UPDATE {T} AS t SET used_at = $5, accepted_at = clock_timestamp(), successor = next.hash
FROM next WHERE t.hash = $1`),

		// A retry (rule 5): supersede the current successor ($7) if it is
		// unused and unexpired and the presented token was accepted
		// ($8) less than the window ($9 µs) ago on the database clock,
		// then insert Next ($2) and make it the presented token's ($1)
		// successor. One row updated: it was a retry; none: it is reuse.
		// A Next that exists fails the statement (unique violation).
		acceptRetry: r.Replace(`
WITH superseded AS (
	UPDATE {T} SET used_at = $5
	WHERE hash = $7 AND used_at IS NULL AND $5 < expires_at
		AND clock_timestamp() < $8::timestamptz + $9::bigint * interval '1 microsecond'
		AND clock_timestamp() > $8::timestamptz - $9::bigint * interval '1 microsecond'
	RETURNING hash
), next AS (
	INSERT INTO {T} (hash, grant_id, generation, issued_at, expires_at)
	SELECT $2, $3, $4, $5, $6 FROM superseded
	RETURNING hash
)
UPDATE {T} AS t SET successor = next.hash
FROM next WHERE t.hash = $1`),

		lookup: r.Replace(`
SELECT t.grant_id, t.generation, t.issued_at, t.expires_at, t.used_at, {grantColumns}
FROM {T} AS t JOIN {G} AS g ON g.id = t.grant_id
WHERE t.hash = $1`),

		grant: r.Replace(`SELECT {grantColumns} FROM {G} AS g WHERE g.id = $1`),

		revoke: r.Replace(`UPDATE {G} SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`),

		// Inserts the key, or takes over its expired record; a live record
		// is left alone and no row is returned.
		useOnce: r.Replace(`
INSERT INTO {O} AS o (key, expires_at) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
WHERE o.expires_at <= $3`),

		sweepTokens: r.Replace(`
DELETE FROM {T} AS t
WHERE t.expires_at <= $1
	OR t.grant_id IN (SELECT id FROM {G} WHERE expires_at <= $1)`),
		sweepGrants: r.Replace(`DELETE FROM {G} WHERE expires_at <= $1`),
		sweepOnce:   r.Replace(`DELETE FROM {O} WHERE expires_at <= $1`),

		// A code, unless its hash or grant ID is taken (unique violation)
		// or its grant exists (no row inserted).
		createCode: r.Replace(`
INSERT INTO {C} (hash, grant_id, client_id, redirect_uri, code_challenge, scope, subject,
	fhir_user, launch_context, nonce, auth_time, issued_at, expires_at)
SELECT $1::bytea, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text,
	$8::text, $9::bytea, $10::text, $11::timestamptz, $12::timestamptz, $13::timestamptz
WHERE NOT EXISTS (SELECT 1 FROM {G} WHERE id = $2::text)`),

		readCode: r.Replace(`SELECT {codeColumns} FROM {C} WHERE hash = $1 AND grant_id = $2`),

		// Rule 6 of RedeemCode in one statement, for a code whose
		// immutable fields (client, expiry, binding) have been checked:
		// mark it used if it is not, and insert its grant ($2, issued at
		// $3, expiring at $4, idle timeout $5 µs, kind $6) with the
		// code's client, user, scope and launch context, and the grant's
		// first refresh token ($7, expiring at $8) unless $7 is NULL. The
		// row lock of the UPDATE makes concurrent presenters wait, and
		// then find used_at set: no row. A grant or token that exists
		// fails the statement (unique violation): nothing is written.
		exchangeCode: r.Replace(`
WITH used AS (
	UPDATE {C} SET used_at = $3::timestamptz
	WHERE hash = $1 AND grant_id = $2::text AND used_at IS NULL
	RETURNING grant_id, client_id, subject, fhir_user, scope, launch_context
), g AS (
	INSERT INTO {G} (id, client_id, subject, fhir_user, scope, launch_context,
		issued_at, expires_at, idle_timeout_us, kind, revoked_at)
	SELECT grant_id, client_id, subject, fhir_user, scope, launch_context,
		$3::timestamptz, $4::timestamptz, $5::bigint, $6::text, NULL
	FROM used
	RETURNING id
), tok AS (
	INSERT INTO {T} (hash, grant_id, generation, issued_at, expires_at)
	SELECT $7::bytea, id, 1, $3::timestamptz, $8::timestamptz FROM g WHERE $7::bytea IS NOT NULL
	RETURNING hash
)
SELECT id FROM g`),

		// The slow path starts by locking the code's row: every other
		// presentation of it waits until the transaction ends.
		lockCode: r.Replace(`SELECT {codeColumns} FROM {C} WHERE hash = $1 AND grant_id = $2 FOR NO KEY UPDATE`),

		useCode: r.Replace(`UPDATE {C} SET used_at = $2 WHERE hash = $1`),

		// Reuse of a code: revoke its grant (keeping a first revocation),
		// or insert the revoked placeholder if the grant does not exist
		// (the code was consumed by a refused presentation). A concurrent
		// CreateGrant of the same ID makes one of the two wait for the
		// other on the primary key: either the grant is revoked, or the
		// placeholder makes CreateGrant fail.
		revokeOrPlaceholder: r.Replace(`
INSERT INTO {G} AS g (id, client_id, subject, fhir_user, scope, launch_context,
	issued_at, expires_at, idle_timeout_us, kind, revoked_at)
VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, 0, '', $6)
ON CONFLICT (id) DO UPDATE SET revoked_at = COALESCE(g.revoked_at, EXCLUDED.revoked_at)`),

		createLaunch: r.Replace(`
INSERT INTO {L} (hash, client_id, launch_context, issued_at, expires_at)
VALUES ($1, $2, $3, $4, $5)`),

		// Consuming a launch deletes it: of concurrent deletes, one gets
		// the row.
		consumeLaunch: r.Replace(`
DELETE FROM {L} WHERE hash = $1
RETURNING client_id, launch_context, issued_at, expires_at`),

		sweepCodes:    r.Replace(`DELETE FROM {C} WHERE expires_at <= $1::timestamptz - {retention}`),
		sweepLaunches: r.Replace(`DELETE FROM {L} WHERE expires_at <= $1`),
	}
}
