package pgstore

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// schemaSQL is schema.sql: the DDL for the default Options.
//
//go:embed schema.sql
var schemaSQL string

// Default names used when the Options fields are empty.
const (
	DefaultSchema      = "public"
	DefaultTablePrefix = "smartauth_"
)

// maxIdentifier is PostgreSQL's longest identifier (NAMEDATALEN - 1).
const maxIdentifier = 63

// longestSuffix is the longest name schema.sql appends to the table prefix.
const longestSuffix = "refresh_tokens_expires_at_idx"

// identifierRE is what Options accepts as a schema name or table prefix:
// a plain SQL identifier, so that the names are the same quoted or not.
var identifierRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// nameRE matches the names of schema.sql that depend on the Options.
var nameRE = regexp.MustCompile(`\b(public\.)?smartauth_([a-z_]+)\b`)

// names holds the quoted names of the tables of one Store.
type names struct {
	schema, prefix string

	grants, tokens, onceKeys, codes, launches string // schema-qualified, quoted
}

func newNames(opts Options) (names, error) {
	n := names{schema: opts.Schema, prefix: opts.TablePrefix}
	if n.schema == "" {
		n.schema = DefaultSchema
	}
	if n.prefix == "" {
		n.prefix = DefaultTablePrefix
	}
	if !identifierRE.MatchString(n.schema) || len(n.schema) > maxIdentifier {
		return names{}, fmt.Errorf("pgstore: invalid Options.Schema %q: want at most %d letters, digits and underscores, not starting with a digit", n.schema, maxIdentifier)
	}
	if !identifierRE.MatchString(n.prefix) || len(n.prefix)+len(longestSuffix) > maxIdentifier {
		return names{}, fmt.Errorf("pgstore: invalid Options.TablePrefix %q: want at most %d letters, digits and underscores, not starting with a digit", n.prefix, maxIdentifier-len(longestSuffix))
	}
	n.grants = n.table("grants")
	n.tokens = n.table("refresh_tokens")
	n.onceKeys = n.table("one_time_keys")
	n.codes = n.table("codes")
	n.launches = n.table("launches")
	return n, nil
}

// table returns the quoted, schema-qualified name of a table.
func (n names) table(suffix string) string {
	return pgx.Identifier{n.schema, n.prefix + suffix}.Sanitize()
}

// ddl returns schema.sql with the names of n.
func (n names) ddl() string {
	sql := strings.Replace(schemaSQL, "CREATE SCHEMA IF NOT EXISTS public;",
		"CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{n.schema}.Sanitize()+";", 1)
	return nameRE.ReplaceAllStringFunc(sql, func(m string) string {
		sub := nameRE.FindStringSubmatch(m)
		if sub[1] != "" {
			return n.table(sub[2])
		}
		return pgx.Identifier{n.prefix + sub[2]}.Sanitize()
	})
}
