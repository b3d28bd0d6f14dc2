package redisstore

// The Lua scripts of the tokenstore.CodeStore methods, under the
// conventions of scripts.go. An authorization code is kept in its
// family's slot, next to the grant it creates, so that RedeemCode can
// revoke that grant (or put the revoked placeholder in its place) in the
// same script; a launch has a slot of its own.
//
// Each call sends a random nonce, recorded with what it writes, so that a
// script run again for the same call (go-redis resends a command after a
// connection error) answers as the first run did: CreateCode and
// CreateLaunch find their own record ("cn") and succeed, RedeemCode finds
// the code used by its own call ("rn") and returns what it returned, and
// ConsumeLaunch finds the launch consumed by its own call ("used").

// createCodeLua stores an authorization code, unless the family already
// has a code or a grant.
//
//	KEYS[1] code key, KEYS[2] grant key
//	ARGV[1] TTL (ms), ARGV[2] nonce of the call,
//	ARGV[3 ..] code fields and values, "cn" (= ARGV[2]) among them
//
// Returns "ok" or "conflict".
const createCodeLua = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'cn') == ARGV[2] then return 'ok' end
  return 'conflict'
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'conflict' end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 'ok'
`

// redeemCodeLua applies the rules of tokenstore.CodeStore.RedeemCode.
//
//	KEYS[1] code key, KEYS[2] grant key, KEYS[3] key of the grant's first
//	refresh token (absent if it has none)
//	ARGV[1] presented hash (hex), ARGV[2] client ID, ARGV[3] now (µs),
//	ARGV[4] nonce of the call, ARGV[5] tokenstore.CodeRetention (µs),
//	ARGV[6] minimum TTL (ms), ARGV[7] code challenge, ARGV[8] redirect
//	URI, ARGV[9] grant ID, ARGV[10] '1' if the grant template follows
//	('0' and empty strings if not: the caller read the code as not
//	redeemable), ARGV[11] grant expiry (µs), ARGV[12] idle timeout (µs),
//	ARGV[13] kind, ARGV[14] grant TTL (ms), ARGV[15] first token hash
//	(hex, '' for none), ARGV[16] its expiry (µs), ARGV[17] its TTL (ms),
//	ARGV[18 ..] the client's registered redirect URIs
//
// Returns {status} for a failure, status being one of notfound, reused,
// client, expired, redirect, challenge, conflict (and stale: the code is
// redeemable but no template was sent, which the caller's read excludes);
// or, on success, {'ok', the code fields in codeFields order}. A used code
// whose "rn" is the call's nonce was used by this very call: it answers
// again what it answered then (success, client, redirect or challenge).
//
// Reuse revokes the grant if it exists (keeping its first revocation);
// otherwise (the code was consumed by a refused presentation) it writes
// the placeholder of tokenstore.AuthorizationCode.RevokedGrant, with a
// TTL until its expiry. A redemption writes the code used, the grant
// (with "first", "live" and "liveexp" naming its first token, if any; see
// createGrantLua) and the token, unless the grant or the token exists.
const redeemCodeLua = `
local c = redis.call('HMGET', KEYS[1], 'hash', 'client', 'exp', 'used', 'rn', 'sub', 'fhiruser', 'scope', 'redirect', 'challenge', 'launch')
if c[1] ~= ARGV[1] then return {'notfound'} end
local function record()
  return {'ok', unpack(redis.call('HMGET', KEYS[1], 'client', 'redirect', 'challenge', 'scope', 'sub', 'fhiruser', 'launch', 'nonce', 'authtime', 'iat', 'exp', 'used'))}
end
local function mismatch()
  local ok = c[9] == ARGV[8]
  if not ok and c[9] == '' then
    ok = ARGV[8] == ''
    for i = 18, #ARGV do
      if ARGV[i] == ARGV[8] then ok = true end
    end
  end
  if not ok then return 'redirect' end
  if c[10] ~= ARGV[7] then return 'challenge' end
  return nil
end
local now = tonumber(ARGV[3])
if c[4] then
  if c[5] == ARGV[4] then
    if c[2] ~= ARGV[2] then return {'client'} end
    local m = mismatch()
    if m then return {m} end
    return record()
  end
  if redis.call('EXISTS', KEYS[2]) == 1 then
    redis.call('HSETNX', KEYS[2], 'revoked', ARGV[3])
  else
    local fin = math.max(tonumber(c[3]), now) + tonumber(ARGV[5])
    redis.call('HSET', KEYS[2], 'client', c[2], 'sub', c[6], 'fhiruser', c[7], 'scope', c[8], 'launch', '',
      'iat', ARGV[3], 'exp', string.format('%.0f', fin), 'idle', '0', 'kind', '', 'revoked', ARGV[3])
    redis.call('PEXPIRE', KEYS[2], math.max(math.ceil((fin - now) / 1000), tonumber(ARGV[6])))
  end
  return {'reused'}
end
if c[2] ~= ARGV[2] then
  redis.call('HSET', KEYS[1], 'used', ARGV[3], 'rn', ARGV[4])
  return {'client'}
end
if now >= tonumber(c[3]) then return {'expired'} end
local m = mismatch()
if m then
  redis.call('HSET', KEYS[1], 'used', ARGV[3], 'rn', ARGV[4])
  return {m}
end
if ARGV[10] ~= '1' then return {'stale'} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'conflict'} end
if ARGV[15] ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then return {'conflict'} end
redis.call('HSET', KEYS[1], 'used', ARGV[3], 'rn', ARGV[4])
redis.call('HSET', KEYS[2], 'client', c[2], 'sub', c[6], 'fhiruser', c[7], 'scope', c[8], 'launch', c[11],
  'iat', ARGV[3], 'exp', ARGV[11], 'idle', ARGV[12], 'kind', ARGV[13])
if ARGV[15] ~= '' then
  redis.call('HSET', KEYS[2], 'first', ARGV[15], 'live', ARGV[15], 'liveexp', ARGV[16])
  redis.call('HSET', KEYS[3], 'grant', ARGV[9], 'gen', '1', 'iat', ARGV[3], 'exp', ARGV[16])
  redis.call('PEXPIRE', KEYS[3], ARGV[17])
end
redis.call('PEXPIRE', KEYS[2], ARGV[14])
return record()
`

// createLaunchLua stores a launch unless its key exists.
//
//	KEYS[1] launch key
//	ARGV[1] TTL (ms), ARGV[2] nonce of the call,
//	ARGV[3 ..] launch fields and values, "cn" (= ARGV[2]) among them
//
// Returns "ok" or "conflict".
const createLaunchLua = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'cn') == ARGV[2] then return 'ok' end
  return 'conflict'
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 'ok'
`

// consumeLaunchLua consumes a launch: the first call marks it used with
// its nonce ("used"); a launch used by another call is unknown. The key
// is left to its TTL, so that a resend of the consuming call finds its
// own nonce and gets the launch again.
//
//	KEYS[1] launch key
//	ARGV[1] now (µs), ARGV[2] nonce of the call
//
// Returns {'notfound'}, {'expired'} or {'ok', the launch fields in
// launchFields order}.
const consumeLaunchLua = `
local l = redis.call('HMGET', KEYS[1], 'client', 'launch', 'iat', 'exp', 'used')
if not l[4] then return {'notfound'} end
if l[5] and l[5] ~= ARGV[2] then return {'notfound'} end
if not l[5] then redis.call('HSET', KEYS[1], 'used', ARGV[2]) end
if tonumber(ARGV[1]) >= tonumber(l[4]) then return {'expired'} end
return {'ok', l[1], l[2], l[3], l[4]}
`
