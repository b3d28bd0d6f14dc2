-- Schema of github.com/smartauth/smartauth/tokenstore/pgstore.
--
-- Runnable as is (psql -f schema.sql) for the default Options: schema
-- "public", table prefix "smartauth_". Store.Migrate runs this same file
-- with every public.smartauth_* and smartauth_* name replaced by the
-- configured schema and prefix. Every statement is idempotent.
--
-- No token is stored, only its SHA-256 hash.

CREATE SCHEMA IF NOT EXISTS public;

-- A grant: a family of refresh tokens.
CREATE TABLE IF NOT EXISTS public.smartauth_grants (
    id              text        PRIMARY KEY,
    client_id       text        NOT NULL,
    subject         text        NOT NULL,
    fhir_user       text        NOT NULL,
    scope           text        NOT NULL,
    launch_context  bytea,                  -- opaque to the store
    issued_at       timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,   -- absolute expiry of the family
    idle_timeout_us bigint      NOT NULL,   -- idle timeout in µs, 0 = none
    kind            text        NOT NULL,   -- offline | online
    revoked_at      timestamptz             -- NULL = not revoked
);

-- Sweep deletes expired grants (and, by cascade, their tokens).
CREATE INDEX IF NOT EXISTS smartauth_grants_expires_at_idx
    ON public.smartauth_grants (expires_at);

-- A refresh token, by hash. The primary key is the index Rotate uses.
CREATE TABLE IF NOT EXISTS public.smartauth_refresh_tokens (
    hash        bytea       PRIMARY KEY,    -- SHA-256 of the token
    grant_id    text        NOT NULL REFERENCES public.smartauth_grants (id) ON DELETE CASCADE,
    generation  integer     NOT NULL,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,       -- idle expiry of the token
    used_at     timestamptz,                -- NULL = not rotated (nor superseded) yet
    accepted_at timestamptz,                -- database clock when its first presentation was accepted
    successor   bytea                       -- hash of the token its latest accepted presentation made
);

-- Upgrade of tables created before the retry window (accepted_at and
-- successor). A used token without them can never be retried: presenting
-- it again is reuse, as it was before.
ALTER TABLE public.smartauth_refresh_tokens
    ADD COLUMN IF NOT EXISTS accepted_at timestamptz,
    ADD COLUMN IF NOT EXISTS successor   bytea;

CREATE INDEX IF NOT EXISTS smartauth_refresh_tokens_grant_id_idx
    ON public.smartauth_refresh_tokens (grant_id);

CREATE INDEX IF NOT EXISTS smartauth_refresh_tokens_expires_at_idx
    ON public.smartauth_refresh_tokens (expires_at);

-- Keys recorded by UseOnce (client assertion jti values).
CREATE TABLE IF NOT EXISTS public.smartauth_one_time_keys (
    key        text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS smartauth_one_time_keys_expires_at_idx
    ON public.smartauth_one_time_keys (expires_at);

-- An authorization code, by hash (never the code), kept until
-- CodeRetention after its expiry so that its reuse is still detected.
-- grant_id names the grant the code creates when it is exchanged: unique
-- (one code per grant), and no foreign key, since the grant does not
-- exist until then.
CREATE TABLE IF NOT EXISTS public.smartauth_codes (
    hash           bytea       PRIMARY KEY,  -- SHA-256 of the code
    grant_id       text        NOT NULL,     -- the grant the code creates
    client_id      text        NOT NULL,
    redirect_uri   text        NOT NULL,
    code_challenge text        NOT NULL,     -- PKCE S256 challenge
    scope          text        NOT NULL,
    subject        text        NOT NULL,
    fhir_user      text        NOT NULL,
    launch_context bytea,                    -- opaque to the store
    nonce          text        NOT NULL,     -- OpenID Connect nonce, '' = none
    auth_time      timestamptz,              -- NULL = unknown
    issued_at      timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz               -- NULL = not used yet
);

CREATE UNIQUE INDEX IF NOT EXISTS smartauth_codes_grant_id_idx
    ON public.smartauth_codes (grant_id);

CREATE INDEX IF NOT EXISTS smartauth_codes_expires_at_idx
    ON public.smartauth_codes (expires_at);

-- An EHR launch, by hash (never the launch value); deleted when consumed.
CREATE TABLE IF NOT EXISTS public.smartauth_launches (
    hash           bytea       PRIMARY KEY,  -- SHA-256 of the launch value
    client_id      text        NOT NULL,     -- '' = any client
    launch_context bytea,                    -- opaque to the store
    issued_at      timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS smartauth_launches_expires_at_idx
    ON public.smartauth_launches (expires_at);
