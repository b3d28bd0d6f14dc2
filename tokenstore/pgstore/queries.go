package pgstore

import "strings"

// queries holds the SQL of one Store, with its table names filled in.
// Placeholders in the templates: G grants, T refresh_tokens, O
// one_time_keys (written {G}, {T}, {O}).
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
}

// grantColumns are the columns of a grant, in the order scanGrant reads
// them (after the ID).
const grantColumns = `g.client_id, g.subject, g.fhir_user, g.scope, g.launch_context,
	g.issued_at, g.expires_at, g.idle_timeout_us, g.kind, g.revoked_at`

func newQueries(n names) queries {
	r := strings.NewReplacer("{G}", n.grants, "{T}", n.tokens, "{O}", n.onceKeys, "{grantColumns}", grantColumns)
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
	}
}
