package pgstore_test

import (
	_ "embed"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/pgstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	schemas := newSchemaPool(t, newPool(t, nil))
	storetest.Run(t, func(t *testing.T) tokenstore.Store { return schemas.store(t) })
}

// TestConcurrentInstances presents one token through stores built on two
// separate pools of the same database.
func TestConcurrentInstances(t *testing.T) {
	p1, p2 := newPool(t, nil), newPool(t, nil)
	schema := newSchema(t, p1)
	storetest.RunConcurrentInstances(t, []tokenstore.Store{
		migratedStore(t, p1, schema),
		migratedStore(t, p2, schema),
	}, 64)
}

func TestCodes(t *testing.T) {
	t.Parallel()
	schemas := newSchemaPool(t, newPool(t, nil))
	storetest.RunCodes(t, func(t *testing.T) storetest.FullStore { return schemas.store(t) })
}

// TestCodesTransactional runs the code suite with RedeemCode always
// taking its transactional path.
func TestCodesTransactional(t *testing.T) {
	t.Parallel()
	schemas := newSchemaPool(t, newPool(t, nil))
	storetest.RunCodes(t, func(t *testing.T) storetest.FullStore {
		return pgstore.TransactionalOnly(schemas.store(t))
	})
}

// TestCodeInstances redeems one code through stores built on two
// separate pools of the same database.
func TestCodeInstances(t *testing.T) {
	p1, p2 := newPool(t, nil), newPool(t, nil)
	schema := newSchema(t, p1)
	storetest.RunCodeInstances(t, []storetest.FullStore{
		migratedStore(t, p1, schema),
		migratedStore(t, p2, schema),
	}, 64)
}

func TestNewOptions(t *testing.T) {
	cases := []struct {
		name string
		opts pgstore.Options
		ok   bool
	}{
		{"Defaults", pgstore.Options{}, true},
		{"Custom", pgstore.Options{Schema: "auth_2", TablePrefix: "sa_"}, true},
		{"UpperCase", pgstore.Options{Schema: "Auth", TablePrefix: "SA"}, true},
		{"LongestPrefix", pgstore.Options{TablePrefix: strings.Repeat("p", 34)}, true},
		{"PrefixTooLong", pgstore.Options{TablePrefix: strings.Repeat("p", 35)}, false},
		{"SchemaTooLong", pgstore.Options{Schema: strings.Repeat("s", 64)}, false},
		{"QuoteInSchema", pgstore.Options{Schema: `a"b`}, false},
		{"DotInSchema", pgstore.Options{Schema: "a.b"}, false},
		{"SpaceInPrefix", pgstore.Options{TablePrefix: "a b"}, false},
		{"LeadingDigit", pgstore.Options{TablePrefix: "1a"}, false},
		{"Injection", pgstore.Options{Schema: "public; DROP TABLE x; --"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := pgstore.New(nil, tc.opts)
			if !tc.ok {
				require.Error(t, err)
				require.Nil(t, s)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, s)
		})
	}
}

// TestSchemaSQL checks that the default DDL is schema.sql itself and that
// other options rename every table and index.
func TestSchemaSQL(t *testing.T) {
	s, err := pgstore.New(nil, pgstore.Options{})
	require.NoError(t, err)
	def := s.SchemaSQL()
	assert.Contains(t, def, `CREATE TABLE IF NOT EXISTS "public"."smartauth_grants"`)
	assert.Contains(t, def, `CREATE SCHEMA IF NOT EXISTS "public";`)

	s, err = pgstore.New(nil, pgstore.Options{Schema: "auth", TablePrefix: "sa_"})
	require.NoError(t, err)
	custom := withoutComments(s.SchemaSQL())
	assert.NotContains(t, custom, "smartauth_")
	assert.NotContains(t, custom, "public")
	for _, want := range []string{
		`CREATE SCHEMA IF NOT EXISTS "auth";`,
		`"auth"."sa_grants"`, `"auth"."sa_refresh_tokens"`, `"auth"."sa_one_time_keys"`,
		`"auth"."sa_codes"`, `"auth"."sa_launches"`,
		`REFERENCES "auth"."sa_grants" (id)`,
		`"sa_refresh_tokens_grant_id_idx"`, `"sa_grants_expires_at_idx"`,
		`"sa_codes_grant_id_idx"`, `"sa_codes_expires_at_idx"`, `"sa_launches_expires_at_idx"`,
	} {
		assert.Contains(t, custom, want)
	}
}

// TestMigrate checks that Migrate is idempotent, also when run by several
// processes at once, and that schema.sql creates the same tables.
func TestMigrate(t *testing.T) {
	pool := newPool(t, nil)
	schema := newSchema(t, pool)
	s, err := pgstore.New(pool, pgstore.Options{Schema: schema, TablePrefix: "m_"})
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, s.Migrate(t.Context()))

	var tables []string
	rows, err := pool.Query(t.Context(), `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, schema)
	require.NoError(t, err)
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"m_codes", "m_grants", "m_launches", "m_one_time_keys", "m_refresh_tokens"}, tables)

	// The store works.
	now := time.Now().UTC().Truncate(time.Millisecond)
	first := storetest.CreateFamily(t, s, storetest.NewGrant(now))
	storetest.RequireRotate(t, s, storetest.Ref(first), now.Add(time.Minute))
}

// TestSweep checks what Sweep removes, and that a swept token is
// ErrNotFound.
func TestSweep(t *testing.T) {
	pool := newPool(t, nil)
	s := newStore(t, pool)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)

	short := storetest.NewGrant(now)
	short.ExpiresAt = now.Add(time.Hour)
	shortFirst := storetest.CreateFamily(t, s, short)
	shortNext := storetest.RequireRotate(t, s, storetest.Ref(shortFirst), now.Add(time.Minute)).Token

	idle := storetest.NewGrant(now)
	idle.IdleTimeout = 10 * time.Minute
	idleFirst := storetest.CreateFamily(t, s, idle)                                                   // expires at now+10m
	idleNext := storetest.RequireRotate(t, s, storetest.Ref(idleFirst), now.Add(5*time.Minute)).Token // expires at now+15m

	long := storetest.NewGrant(now)
	longFirst := storetest.CreateFamily(t, s, long)

	require.NoError(t, s.UseOnce(ctx, "a", now.Add(time.Minute), now))
	require.NoError(t, s.UseOnce(ctx, "b", now.Add(3*time.Hour), now))

	n, err := s.Sweep(ctx, now)
	require.NoError(t, err)
	require.Zero(t, n, "nothing has expired yet")

	// At now+2h: the short grant and its 2 tokens, both tokens of the
	// idle grant (idle expiry) and one-time key "a" have expired.
	n, err = s.Sweep(ctx, now.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(3+2+1), n)

	for _, tok := range []tokenstore.RefreshToken{shortFirst, shortNext, idleFirst, idleNext} {
		_, _, err := s.LookupToken(ctx, storetest.Ref(tok))
		require.ErrorIs(t, err, tokenstore.ErrNotFound)
	}
	_, err = s.Grant(ctx, short.ID)
	require.ErrorIs(t, err, tokenstore.ErrNotFound)
	_, err = s.Grant(ctx, idle.ID)
	require.NoError(t, err, "the idle grant has not expired, only its tokens")
	_, _, err = s.LookupToken(ctx, storetest.Ref(longFirst))
	require.NoError(t, err)
	require.NoError(t, s.UseOnce(ctx, "a", now.Add(3*time.Hour), now.Add(2*time.Hour)))
	require.ErrorIs(t, s.UseOnce(ctx, "b", now.Add(3*time.Hour), now.Add(2*time.Hour)), tokenstore.ErrReplayed)
}

// TestConformanceTransactional runs the suite with Rotate always taking
// its transactional path.
func TestConformanceTransactional(t *testing.T) {
	t.Parallel()
	schemas := newSchemaPool(t, newPool(t, nil))
	storetest.Run(t, func(t *testing.T) tokenstore.Store {
		return pgstore.TransactionalOnly(schemas.store(t))
	})
}

// withoutComments removes the SQL line comments of sql.
func withoutComments(sql string) string {
	var b strings.Builder
	for line := range strings.Lines(sql) {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

// TestUseOnceAnyKey: keys that PostgreSQL text cannot hold, or that are
// too long for a B-tree index entry, are recorded too.
func TestUseOnceAnyKey(t *testing.T) {
	s := newStore(t, newPool(t, nil))
	now := time.Now().UTC().Truncate(time.Millisecond)
	keys := []string{
		"jti:app:\x00nul",
		"jti:app:\xff\xfe not utf-8",
		"jti:app:" + strings.Repeat("long", 4096),
		"jti:app:" + strings.Repeat("x", pgstore.MaxPlainKeyLen-8),
		"jti:app:" + strings.Repeat("x", pgstore.MaxPlainKeyLen-7),
		"sha256:looks-hashed",
	}
	for _, k := range keys {
		require.NoError(t, s.UseOnce(t.Context(), k, now.Add(time.Minute), now), "first use of %q", k)
	}
	for _, k := range keys {
		require.ErrorIs(t, s.UseOnce(t.Context(), k, now.Add(time.Minute), now), tokenstore.ErrReplayed, "replay of %q", k)
	}
}

// schemaV1 is schema.sql as it was before the retry window: without
// refresh_tokens.accepted_at and refresh_tokens.successor.
//
//go:embed testdata/schema_v1.sql
var schemaV1 string

// TestMigrateUpgradesV1: Migrate adds the new columns to tables created by
// the first schema, keeping their rows. A token used before the upgrade
// can never be retried (presenting it again is reuse, as it was); an
// unused one rotates and can be retried.
func TestMigrateUpgradesV1(t *testing.T) {
	ctx := t.Context()
	pool := newPool(t, nil)
	schema := newSchema(t, pool)
	v1 := strings.Replace(schemaV1, "CREATE SCHEMA IF NOT EXISTS public;",
		"CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()+";", 1)
	v1 = strings.ReplaceAll(v1, "public.smartauth_", pgx.Identifier{schema}.Sanitize()+".smartauth_")
	_, err := pool.Exec(ctx, v1)
	require.NoError(t, err)
	columns := func() []string {
		rows, err := pool.Query(ctx, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = $1 AND table_name = 'smartauth_refresh_tokens' ORDER BY ordinal_position`, schema)
		require.NoError(t, err)
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return names
	}
	require.NotContains(t, columns(), "successor")

	// Records written under the first schema (CreateGrant is the same).
	s, err := pgstore.New(pool, pgstore.Options{Schema: schema})
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Millisecond)
	used := storetest.NewGrant(now)
	usedFirst := storetest.FirstToken(used)
	usedFirst.UsedAt = now.Add(time.Minute)
	require.NoError(t, s.CreateGrant(ctx, used, usedFirst))
	fresh := storetest.NewGrant(now)
	freshFirst := storetest.CreateFamily(t, s, fresh)

	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Migrate(ctx), "Migrate is idempotent")
	want := []string{"hash", "grant_id", "generation", "issued_at", "expires_at", "used_at", "accepted_at", "successor"}
	require.Equal(t, want, columns())

	_, err = s.Rotate(ctx, tokenstore.RotateRequest{
		Presented: storetest.Ref(usedFirst), Next: storetest.NewHash(), ClientID: storetest.ClientID,
		Now: now.Add(2 * time.Minute), RetryWindow: time.Minute,
	})
	require.ErrorIs(t, err, tokenstore.ErrReused, "a token used before the upgrade is never retried")
	g, err := s.Grant(ctx, used.ID)
	require.NoError(t, err)
	require.True(t, g.Revoked)

	storetest.RequireRotate(t, s, storetest.Ref(freshFirst), now.Add(2*time.Minute))
	res, err := s.Rotate(ctx, tokenstore.RotateRequest{
		Presented: storetest.Ref(freshFirst), Next: storetest.NewHash(), ClientID: storetest.ClientID,
		Now: now.Add(2 * time.Minute), RetryWindow: time.Minute,
	})
	require.NoError(t, err)
	require.True(t, res.Retry)
}
