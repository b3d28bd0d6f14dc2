package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts below are the whole state machine of the store: each
// Store method that changes state is one script, so it runs atomically on
// the server in one round trip.
//
// Conventions shared by every script:
//   - every key a script reads or writes is declared in KEYS, and the keys
//     of one run share one hash tag (one Cluster slot): a family's grant,
//     tokens and code, or a single index, UseOnce or launch key;
//   - record times are decimal unix microseconds of the caller's clock
//     (the Now the caller passed in ARGV), which decide expiry;
//   - the only use of the server's clock is rotateLua's TIME, which
//     measures the retry window (Redis 5 and later replicate scripts by
//     their effects, so TIME is allowed before writes);
//   - Lua numbers are doubles: microsecond times (about 2^51 today) and
//     generations are exact, and are written back with %.0f.
//
// Field names of the records are listed in records.go. The family's state
// is kept in its grant: "live" is the hex hash of the family's one live
// (unused, unsuperseded) token, if any, so that the rotation of a token
// can test and supersede its successor without touching the successor's
// own record, whose key it cannot name in KEYS.

// indexLua records the grant ID of a first token in its index key, unless
// the key names another grant.
//
//	KEYS[1] index key
//	ARGV[1] grant ID, ARGV[2] TTL (ms)
//
// Returns "new" (written), "same" (already there, TTL renewed) or
// "conflict" (the hash is indexed for another grant).
const indexLua = `
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 'conflict' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if v then return 'same' end
return 'new'
`

// unindexLua deletes an index key if it still names the given grant.
//
//	KEYS[1] index key
//	ARGV[1] grant ID
const unindexLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 'ok'
`

// createGrantLua stores a grant and its first token unless either key
// exists.
//
//	KEYS[1] grant key, KEYS[2] token key
//	ARGV[1] grant TTL (ms), ARGV[2] token TTL (ms),
//	ARGV[3] n = number of grant field/value arguments that follow,
//	ARGV[4 .. 3+n] grant fields and values, ARGV[4+n ..] token fields and
//	values
//
// The grant's fields include "first", the hex hash of its first token,
// and "live" and "liveexp", the same hash and the token's expiry, unless
// the first token is stored used.
//
// Returns "ok" or "conflict". A request that finds exactly this grant and
// this first token already stored (the grant's "first" is the token, and
// the token has the same grant, generation and issue time) is the resend of
// a creation whose reply was lost: it returns "ok" and changes nothing.
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
//	KEYS[1] grant key, KEYS[2] presented token key, KEYS[3] next token key
//	ARGV[1] grant ID, ARGV[2] client ID, ARGV[3] now (µs),
//	ARGV[4] retry window (µs), ARGV[5] next hash (hex),
//	ARGV[6] presented hash (hex), ARGV[7] minimum TTL (ms)
//
// Returns {status} for a failure, status being one of notfound, client,
// revoked, expired, reused, conflict; or, on success,
//
//	{'ok', retry ('0'|'1'), generation, issued-at, expires-at,
//	 the grant fields in grantFields order (without 'revoked')}
//
// The presented token is live if the grant's "live" names it; otherwise it
// is used (its own "used") or superseded (the grant's "sup:<hex>"). A first
// presentation (rule 6) records, in the presented token, "used" (the
// caller's Now), "acc" (the server's clock, µs: when the store accepted
// it) and "succ" (the successor's hex hash), and points the grant's "live"
// at the successor ("liveexp": its expiry). A retry (rule 5) requires
// "acc" within the window on the server's clock, "live" still naming
// "succ" and "liveexp" after Now; it marks the old successor superseded in
// the grant ("sup:<hex>" = Now), and points "succ" and "live" at Next,
// which carries "rt" = 1.
//
// Before rule 5, a used token whose "succ" is Next, Next existing in the
// family and issued at this Now, is the resend of the request that created
// Next (go-redis resends a command after a connection error): the script
// answers it as it answered the first time. Only the request that created
// a successor knows its hash, so no other presentation can pass as a
// resend.
const rotateLua = `
local t = redis.call('HMGET', KEYS[2], 'grant', 'gen', 'exp', 'acc', 'succ')
if t[1] ~= ARGV[1] then return {'notfound'} end
local g = redis.call('HMGET', KEYS[1], 'client', 'sub', 'fhiruser', 'scope', 'launch', 'iat', 'exp', 'idle', 'kind', 'revoked', 'live', 'liveexp')
if not g[1] then return {'notfound'} end
local live = g[11] == ARGV[6]
if g[1] ~= ARGV[2] then
  if live then return {'client'} end
  redis.call('HSETNX', KEYS[1], 'revoked', ARGV[3])
  return {'reused'}
end
if g[10] then return {'revoked'} end
local now = tonumber(ARGV[3])
if now >= tonumber(g[7]) or now >= tonumber(t[3]) then return {'expired'} end
local retry = '0'
if not live then
  if t[5] == ARGV[5] then
    local n = redis.call('HMGET', KEYS[3], 'grant', 'gen', 'iat', 'exp', 'rt')
    if n[1] == ARGV[1] and n[3] == ARGV[3] then
      return {'ok', n[5] or '0', n[2], n[3], n[4], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9]}
    end
  end
  local ok = false
  local window = tonumber(ARGV[4])
  if window > 0 and t[4] and t[5] and g[11] == t[5] and g[12] and now < tonumber(g[12]) then
    local clock = redis.call('TIME')
    ok = tonumber(clock[1]) * 1000000 + tonumber(clock[2]) - tonumber(t[4]) < window
  end
  if not ok then
    redis.call('HSETNX', KEYS[1], 'revoked', ARGV[3])
    return {'reused'}
  end
  retry = '1'
end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'conflict'} end
local exp = g[7]
local idle = tonumber(g[8])
if idle > 0 and now + idle < tonumber(g[7]) then exp = string.format('%.0f', now + idle) end
local gen = string.format('%.0f', tonumber(t[2]) + 1)
if retry == '1' then
  redis.call('HSET', KEYS[1], 'live', ARGV[5], 'liveexp', exp, 'sup:' .. t[5], ARGV[3])
  redis.call('HSET', KEYS[2], 'succ', ARGV[5])
  redis.call('HSET', KEYS[3], 'grant', ARGV[1], 'gen', gen, 'iat', ARGV[3], 'exp', exp, 'rt', '1')
else
  local clock = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'live', ARGV[5], 'liveexp', exp)
  redis.call('HSET', KEYS[2], 'used', ARGV[3], 'acc', clock[1] .. string.format('%06d', tonumber(clock[2])), 'succ', ARGV[5])
  redis.call('HSET', KEYS[3], 'grant', ARGV[1], 'gen', gen, 'iat', ARGV[3], 'exp', exp)
end
redis.call('PEXPIRE', KEYS[3], math.max(math.ceil((tonumber(exp) - now) / 1000), tonumber(ARGV[7])))
return {'ok', retry, gen, ARGV[3], exp, g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9]}
`

// lookupLua reads a token record and its grant; it changes nothing.
//
//	KEYS[1] grant key, KEYS[2] token key
//	ARGV[1] grant ID, ARGV[2] token hash (hex)
//
// Returns 0 if either record is missing (or the token belongs to another
// grant), otherwise the token fields in tokenFields order followed by the
// grant fields in grantFields order (missing optional fields are nil).
// The token's "used" is its own, or else, if the grant's "live" does not
// name it, the time it was superseded ("sup:<hex>" of the grant), or else
// (records of a family the store did not write) its issue time: a token
// that is not live is always reported used.
const lookupLua = `
local t = redis.call('HMGET', KEYS[2], 'grant', 'gen', 'iat', 'exp', 'used')
if t[1] ~= ARGV[1] then return 0 end
local g = redis.call('HMGET', KEYS[1], 'client', 'sub', 'fhiruser', 'scope', 'launch', 'iat', 'exp', 'idle', 'kind', 'revoked', 'live')
if not g[1] then return 0 end
local used = t[5]
if not used and g[11] ~= ARGV[2] then
  used = redis.call('HGET', KEYS[1], 'sup:' .. ARGV[2]) or t[3]
end
return {t[1], t[2], t[3], t[4], used, g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10]}
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
//	ARGV[1] expires-at (µs), ARGV[2] now (µs), ARGV[3] TTL (ms),
//	ARGV[4] nonce of the call
//
// The record is "<expires-at>:<nonce>" (records copied from the previous
// key layout by MigrateLegacyKeys have no nonce). Returns "ok" or
// "replayed". A record carrying the call's own nonce was written by this
// very call, whose reply was lost and which go-redis resent: "ok". The
// record holds its expiry so that the caller's clock, not the key's TTL,
// decides whether it is still live; the TTL only removes it afterwards.
const useOnceLua = `
local v = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[2])
if v then
  local sep = string.find(v, ':', 1, true)
  local exp = v
  if sep then
    if string.sub(v, sep + 1) == ARGV[4] then return 'ok' end
    exp = string.sub(v, 1, sep - 1)
  end
  if now < tonumber(exp) then return 'replayed' end
end
if tonumber(ARGV[1]) <= now then
  if v then redis.call('DEL', KEYS[1]) end
  return 'ok'
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[4], 'PX', ARGV[3])
return 'ok'
`

// migrateFamilyLua writes a family copied from the previous key layout,
// unless its grant already exists in the current one.
//
//	KEYS[1] grant key, KEYS[2..] token keys
//	ARGV[1] grant TTL (ms), ARGV[2] n = number of grant field/value
//	arguments, ARGV[3 .. 2+n] grant fields and values, then for each token
//	key in order: its TTL (ms), m = number of its field/value arguments,
//	and those m arguments
//
// Returns 1 if the family was written, 0 if it already existed.
const migrateFamilyLua = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local n = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 3, 2 + n))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local i = 3 + n
for k = 2, #KEYS do
  local ttl, m = ARGV[i], tonumber(ARGV[i + 1])
  redis.call('HSET', KEYS[k], unpack(ARGV, i + 2, i + 1 + m))
  redis.call('PEXPIRE', KEYS[k], ttl)
  i = i + 2 + m
end
return 1
`

// scripts holds the compiled scripts of one Store.
type scripts struct {
	index, unindex, createGrant, rotate, lookup, revoke, useOnce, migrateFamily *redis.Script

	createCode, redeemCode, createLaunch, consumeLaunch *redis.Script
}

func newScripts() scripts {
	return scripts{
		index:         redis.NewScript(indexLua),
		unindex:       redis.NewScript(unindexLua),
		createGrant:   redis.NewScript(createGrantLua),
		rotate:        redis.NewScript(rotateLua),
		lookup:        redis.NewScript(lookupLua),
		revoke:        redis.NewScript(revokeLua),
		useOnce:       redis.NewScript(useOnceLua),
		migrateFamily: redis.NewScript(migrateFamilyLua),
		createCode:    redis.NewScript(createCodeLua),
		redeemCode:    redis.NewScript(redeemCodeLua),
		createLaunch:  redis.NewScript(createLaunchLua),
		consumeLaunch: redis.NewScript(consumeLaunchLua),
	}
}
