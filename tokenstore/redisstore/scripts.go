package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts below are the whole state machine of the store: each
// Store method that changes state is one script, so it runs atomically on
// the server in one round trip.
//
// Conventions shared by every script:
//   - times are decimal unix microseconds, compared with the Now the caller
//     passed in ARGV (never Redis TIME);
//   - a script never calls TIME or any other non-deterministic command, so it
//     replicates by effects and by verbatim script alike;
//   - every key a script touches lies in the Store's one hash slot (see
//     doc.go), the grant key being derived from the token record.
//
// Field names of the records are listed in records.go.

// createGrantLua stores a grant and its first token unless either key
// exists.
//
//	KEYS[1] grant key, KEYS[2] token key
//	ARGV[1] grant TTL (ms), ARGV[2] token TTL (ms),
//	ARGV[3] n = number of grant field/value arguments that follow,
//	ARGV[4 .. 3+n] grant fields and values, ARGV[4+n ..] token fields and
//	values
//
// The grant's fields include "first", the hex hash of its first token.
//
// Returns "ok" or "conflict". A request that finds exactly this grant and
// this first token already stored (the grant's "first" is the token, and
// the token has the same generation and issue time) is the resend of a
// creation whose reply was lost: it returns "ok" and changes nothing.
const createGrantLua = `
local n = tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  local first = redis.call('HGET', KEYS[1], 'first')
  local t = redis.call('HMGET', KEYS[2], 'grant', 'gen', 'iat')
  local want = {}
  for i = 4 + n, #ARGV, 2 do want[ARGV[i]] = ARGV[i + 1] end
  local g = {}
  for i = 4, 3 + n, 2 do g[ARGV[i]] = ARGV[i + 1] end
  if first and first == g['first'] and t[1] == want['grant'] and t[2] == want['gen'] and t[3] == want['iat'] then
    return 'ok'
  end
  return 'conflict'
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + n))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], unpack(ARGV, 4 + n, #ARGV))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 'ok'
`

// rotateLua applies the rules of tokenstore.Store.Rotate.
//
//	KEYS[1] presented token key, KEYS[2] next token key
//	ARGV[1] grant key prefix, ARGV[2] client ID, ARGV[3] now (µs),
//	ARGV[4] grace period (µs)
//
// Returns {status} for a failure, status being one of notfound, client,
// revoked, expired, reused, conflict; or, on success,
//
//	{'ok', grace ('0'|'1'), grant ID, generation, issued-at, expires-at,
//	 the grant fields in grantFields order (without 'revoked')}
//
// A used token whose successor KEYS[2] already exists, belongs to the same
// grant, has the next generation and was issued at this very Now is the
// retry of a rotation whose reply was lost (go-redis retries a command after
// a connection error): the script answers it with that successor instead of
// treating it as reuse. Only the request that created the successor knows
// its hash, so no other presentation can match.
const rotateLua = `
local t = redis.call('HMGET', KEYS[1], 'grant', 'gen', 'exp', 'used')
if not t[1] then return {'notfound'} end
local gkey = ARGV[1] .. t[1]
local g = redis.call('HMGET', gkey, 'client', 'sub', 'fhiruser', 'scope', 'launch', 'iat', 'exp', 'idle', 'kind', 'revoked')
if not g[1] then return {'notfound'} end
if g[1] ~= ARGV[2] then return {'client'} end
if g[10] then return {'revoked'} end
local now = tonumber(ARGV[3])
if now >= tonumber(g[7]) or now >= tonumber(t[3]) then return {'expired'} end
local gen = tonumber(t[2]) + 1
local grace = '0'
if t[4] then
  local used = tonumber(t[4])
  local n = redis.call('HMGET', KEYS[2], 'grant', 'gen', 'iat', 'exp')
  if n[1] == t[1] and tonumber(n[2]) == gen and n[3] == ARGV[3] then
    if used ~= now then grace = '1' end
    return {'ok', grace, t[1], n[2], n[3], n[4], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9]}
  end
  if now < used + tonumber(ARGV[4]) then
    grace = '1'
  else
    redis.call('HSET', gkey, 'revoked', ARGV[3])
    return {'reused'}
  end
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'conflict'} end
if grace == '0' then redis.call('HSET', KEYS[1], 'used', ARGV[3]) end
local exp = g[7]
local idle = tonumber(g[8])
if idle > 0 and now + idle < tonumber(g[7]) then exp = string.format('%.0f', now + idle) end
redis.call('HSET', KEYS[2], 'grant', t[1], 'gen', string.format('%.0f', gen), 'iat', ARGV[3], 'exp', exp)
redis.call('PEXPIRE', KEYS[2], math.ceil((tonumber(exp) - now) / 1000))
return {'ok', grace, t[1], string.format('%.0f', gen), ARGV[3], exp, g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9]}
`

// lookupLua reads a token record and its grant; it changes nothing.
//
//	KEYS[1] token key
//	ARGV[1] grant key prefix
//
// Returns 0 if either record is missing, otherwise the token fields in
// tokenFields order followed by the grant fields in grantFields order
// (missing optional fields are nil).
const lookupLua = `
local t = redis.call('HMGET', KEYS[1], 'grant', 'gen', 'iat', 'exp', 'used')
if not t[1] then return 0 end
local g = redis.call('HMGET', ARGV[1] .. t[1], 'client', 'sub', 'fhiruser', 'scope', 'launch', 'iat', 'exp', 'idle', 'kind', 'revoked')
if not g[1] then return 0 end
return {t[1], t[2], t[3], t[4], t[5], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10]}
`

// revokeLua marks a grant revoked, keeping the first revocation time.
//
//	KEYS[1] grant key
//	ARGV[1] now (µs)
//
// Returns "ok" or "notfound".
const revokeLua = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'notfound' end
redis.call('HSETNX', KEYS[1], 'revoked', ARGV[1])
return 'ok'
`

// useOnceLua records a one-time key until its expiry.
//
//	KEYS[1] one-time key
//	ARGV[1] expires-at (µs), ARGV[2] now (µs), ARGV[3] TTL (ms)
//
// Returns "ok" or "replayed". The record holds its expiry so that the
// caller's clock, not the key's TTL, decides whether it is still live; the
// TTL only removes it afterwards.
const useOnceLua = `
local v = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[2])
if v and now < tonumber(v) then return 'replayed' end
if tonumber(ARGV[1]) <= now then
  if v then redis.call('DEL', KEYS[1]) end
  return 'ok'
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 'ok'
`

// scripts holds the compiled scripts of one Store.
type scripts struct {
	createGrant, rotate, lookup, revoke, useOnce *redis.Script
}

func newScripts() scripts {
	return scripts{
		createGrant: redis.NewScript(createGrantLua),
		rotate:      redis.NewScript(rotateLua),
		lookup:      redis.NewScript(lookupLua),
		revoke:      redis.NewScript(revokeLua),
		useOnce:     redis.NewScript(useOnceLua),
	}
}
