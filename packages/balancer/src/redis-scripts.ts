/**
 * Lua scripts of the Redis cluster store. Redis runs each script atomically, which is what makes a
 * placement claim, a seat reservation or a death decision happen once across balancers. Keys are
 * built inside the scripts from the prefix (ARGV[1]), so the store needs a single Redis instance
 * (not Redis Cluster).
 *
 * Layout (P = prefix, `plexus:`):
 *   P servers            SET of server ids
 *   P server:<id>        HASH of the server's identity and last report (expires unless refreshed)
 *   P holders:<id>       ZSET balancer id → expiry ms (the balancers holding its control socket)
 *   P seats:<id>         ZSET "<jti> <playgroundId>" → expiry ms (unredeemed tickets)
 *   P unseen:<id>:<lbId> ZSET "<jti> <playgroundId>" → expiry ms (seats redeemed through another
 *                        balancer, whose ticketRedeemed this one has not applied yet: a report it
 *                        applies meanwhile may predate the redemption)
 *   P held:<userId>      ZSET "<serverId> <jti> <playgroundId>" → expiry ms (a user's reservations;
 *                        an entry whose seat is gone from seats:<id> — redeemed — no longer counts)
 *   P hosted:<id>        SET of the playgrounds mapped to it
 *   P pg:<playgroundId>  "<serverId>|<epoch or empty>" (the playground map, with fencing epochs)
 *   P orphan:<pg>        set while a dead server's playground waits to be placed again
 *   P dead               LIST of recently dead servers (JSON, newest first)
 *   P rev:<id>           a server's placement revision: bumped by every write a decision for it
 *                        could depend on (its report, drain, death, a placement on it)
 *   P heldrev:<userId>   bumped by every placement for the user (their held-seat count)
 *   P lb:<lbId>          pub/sub channel of one balancer (messages for servers it holds)
 */

const COMMON = `
local P = ARGV[1]
local function alive(id, now)
  return redis.call('EXISTS', P .. 'server:' .. id) == 1
    and redis.call('ZCOUNT', P .. 'holders:' .. id, '(' .. now, '+inf') > 0
end
local function getHome(pg)
  local v = redis.call('GET', P .. 'pg:' .. pg)
  if not v then return nil, nil end
  local sep = string.find(v, '|', 1, true)
  local e = string.sub(v, sep + 1)
  return string.sub(v, 1, sep - 1), (e ~= '' and tonumber(e) or nil)
end
local function homeValue(id, epoch)
  if epoch then return id .. '|' .. string.format('%d', epoch) end
  return id .. '|'
end
local function extend(key, ms)
  local t = redis.call('PTTL', key)
  if t == -1 or (t >= 0 and t < ms) then redis.call('PEXPIRE', key, ms) end
end
local REV_TTL_MS = 86400000
local function revision(key)
  return tonumber(redis.call('GET', P .. key) or '0')
end
local function bump(key)
  redis.call('INCR', P .. key)
  redis.call('PEXPIRE', P .. key, REV_TTL_MS)
end
local function isDraining(id)
  return redis.call('HGET', P .. 'server:' .. id, 'draining') == '1'
end
-- A user's live reservations as {server, member of seats:<server>, playground}; prunes the rest.
local function heldSeats(user, now)
  local key = P .. 'held:' .. user
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local out = {}
  for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    local a = string.find(m, ' ', 1, true)
    local b = string.find(m, ' ', a + 1, true)
    local server, seat, pg = string.sub(m, 1, a - 1), string.sub(m, a + 1), string.sub(m, b + 1)
    if redis.call('ZSCORE', P .. 'seats:' .. server, seat) then
      table.insert(out, { server, seat, pg, m })
    else
      redis.call('ZREM', key, m)
    end
  end
  return out
end
`;

/**
 * register / report. ARGV: P, serverId, lbId, now, ttl, mode ('register'|'report'), identity JSON,
 * playgrounds JSON, load JSON ('{}' for register). Returns the releases, flat: pg, server, pg, server…
 */
export const REPORT_SCRIPT = `${COMMON}
local id, lb, now, ttl, mode = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local ident = cjson.decode(ARGV[7])
local pgs = cjson.decode(ARGV[8])
local load = cjson.decode(ARGV[9])
local sk = P .. 'server:' .. id
bump('rev:' .. id)
local players = 0
for _, p in ipairs(pgs) do players = players + p.players end
if mode == 'register' then
  redis.call('DEL', sk)
  redis.call('HSET', sk, 'registeredAt', now, 'draining', '0', 'cpu', 0, 'tickMs', 0, 'entities', 0,
    'bytesOutPerSec', 0, 'tickP50Ms', 0, 'tickP99Ms', 0, 'checkpointLagMs', 0, 'backpressureSkips', 0)
else
  -- A report re-creates an entry that expired or was lost with a Redis restart.
  if redis.call('EXISTS', sk) == 0 then redis.call('HSET', sk, 'registeredAt', now, 'draining', '0') end
  players = load.players
  redis.call('HSET', sk, 'cpu', load.cpu, 'tickMs', load.tickMs, 'entities', load.entities,
    'bytesOutPerSec', load.bytesOutPerSec, 'tickP50Ms', load.tickP50Ms, 'tickP99Ms', load.tickP99Ms,
    'checkpointLagMs', load.checkpointLagMs,
    'backpressureSkips', load.backpressureSkips)
  if load.draining then redis.call('HSET', sk, 'draining', '1') end
end
redis.call('HSET', sk, 'endpoint', ident.endpoint, 'capacity', ident.capacity, 'version', ident.version,
  'protocolVersion', ident.protocolVersion, 'players', players, 'playgrounds', ARGV[8], 'lastReportAt', now)
redis.call('PEXPIRE', sk, ttl)
redis.call('ZADD', P .. 'holders:' .. id, now + ttl, lb)
redis.call('PEXPIRE', P .. 'holders:' .. id, ttl)
redis.call('SADD', P .. 'servers', id)
local draining = isDraining(id)
local hosted = P .. 'hosted:' .. id
local releases = {}
local listed = {}
for _, p in ipairs(pgs) do
  local pg = p.playgroundId
  local epoch = p.epoch
  if type(epoch) ~= 'number' then epoch = nil end
  listed[pg] = true
  local home, hepoch = getHome(pg)
  if (not home) or (home ~= id and not alive(home, now)) then
    if home then redis.call('SREM', P .. 'hosted:' .. home, pg) end
    redis.call('SET', P .. 'pg:' .. pg, homeValue(id, epoch), 'PX', ttl)
    redis.call('SADD', hosted, pg)
    redis.call('DEL', P .. 'orphan:' .. pg)
  elseif home == id then
    if epoch and ((not hepoch) or epoch > hepoch) then
      redis.call('SET', P .. 'pg:' .. pg, homeValue(id, epoch), 'KEEPTTL')
    end
    extend(P .. 'pg:' .. pg, ttl)
    redis.call('SADD', hosted, pg)
  elseif (not draining) and epoch and hepoch and epoch > hepoch then
    table.insert(releases, pg)
    table.insert(releases, home)
    redis.call('SREM', P .. 'hosted:' .. home, pg)
    redis.call('SET', P .. 'pg:' .. pg, homeValue(id, epoch), 'PX', ttl)
    redis.call('SADD', hosted, pg)
  elseif not draining then
    table.insert(releases, pg)
    table.insert(releases, id)
  end
end
if mode == 'report' then
  local seats = P .. 'seats:' .. id
  redis.call('ZREMRANGEBYSCORE', seats, '-inf', now)
  local pending = {}
  for _, m in ipairs(redis.call('ZRANGE', seats, 0, -1)) do
    pending[string.sub(m, string.find(m, ' ', 1, true) + 1)] = true
  end
  -- Each balancer applies the server's messages in order, but at its own pace: a report this one
  -- applies after another balancer applied a redemption may have been built before it (the
  -- playground still claiming, not listed). Until this balancer applies that redemption too, its
  -- playground counts as pending.
  local unseen = P .. 'unseen:' .. id .. ':' .. lb
  redis.call('ZREMRANGEBYSCORE', unseen, '-inf', now)
  for _, m in ipairs(redis.call('ZRANGE', unseen, 0, -1)) do
    pending[string.sub(m, string.find(m, ' ', 1, true) + 1)] = true
  end
  for _, pg in ipairs(redis.call('SMEMBERS', hosted)) do
    if not listed[pg] and not pending[pg] then
      if getHome(pg) == id then redis.call('DEL', P .. 'pg:' .. pg) end
      redis.call('SREM', hosted, pg)
    end
  end
end
extend(hosted, ttl)
return releases
`;

/**
 * What placement needs. ARGV: P, playgroundId, now, userId ('' for none). A user's earlier
 * reservation in this playground is released first: the new ticket replaces it. Returns JSON
 * {home, held, holdRevision, servers:[[id, capacity, players, pending, draining, revision]]}.
 */
export const SNAPSHOT_SCRIPT = `${COMMON}
local pg, now, user = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local held = 0
if user ~= '' then
  for _, h in ipairs(heldSeats(user, now)) do
    if h[3] == pg then
      redis.call('ZREM', P .. 'seats:' .. h[1], h[2])
      redis.call('ZREM', P .. 'held:' .. user, h[4])
    else
      held = held + 1
    end
  end
end
local servers = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'servers')) do
  if redis.call('EXISTS', P .. 'server:' .. id) == 0 then
    redis.call('SREM', P .. 'servers', id)
  elseif alive(id, now) then
    local f = redis.call('HMGET', P .. 'server:' .. id, 'capacity', 'players', 'draining')
    local pending = redis.call('ZCOUNT', P .. 'seats:' .. id, '(' .. now, '+inf')
    table.insert(servers, { id, tonumber(f[1]) or 0, tonumber(f[2]) or 0, pending, f[3] == '1',
      revision('rev:' .. id) })
  end
end
local home = getHome(pg)
local holdRevision = user ~= '' and revision('heldrev:' .. user) or 0
return cjson.encode({ home = home or '', held = held, holdRevision = holdRevision, servers = servers })
`;

/**
 * Commits a placement decided by the pure placement function (store-placement.ts) — if, and only
 * if, the revisions it was decided on still hold: the chosen server's, the user's held seats', and
 * the playground's mapping as read. Nothing of the decision is re-checked here. ARGV: P, server
 * revision, hold revision, home as read ('' for none), playgroundId, serverId, sticky ('1'|'0'),
 * mapping ttl, seat expiry, userId ('' for none), jti… Returns {'ok', endpoint, replaced} or
 * {'stale'}.
 */
export const COMMIT_SCRIPT = `${COMMON}
local pg, id, sticky = ARGV[5], ARGV[6], ARGV[7] == '1'
local mapTtl, expires, user = tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10]
local home = getHome(pg)
if revision('rev:' .. id) ~= tonumber(ARGV[2]) or (home or '') ~= ARGV[4]
  or (user ~= '' and revision('heldrev:' .. user) ~= tonumber(ARGV[3])) then
  return { 'stale' }
end
local replaced = 0
if sticky and home == id then
  extend(P .. 'pg:' .. pg, mapTtl)
else
  if home then redis.call('SREM', P .. 'hosted:' .. home, pg) end
  redis.call('SET', P .. 'pg:' .. pg, homeValue(id, nil), 'PX', mapTtl)
  redis.call('SADD', P .. 'hosted:' .. id, pg)
  extend(P .. 'hosted:' .. id, mapTtl)
  if not sticky then replaced = redis.call('DEL', P .. 'orphan:' .. pg) end
end
local seats = P .. 'seats:' .. id
for i = 11, #ARGV do
  redis.call('ZADD', seats, expires, ARGV[i] .. ' ' .. pg)
  if user ~= '' then redis.call('ZADD', P .. 'held:' .. user, expires, id .. ' ' .. ARGV[i] .. ' ' .. pg) end
end
extend(seats, mapTtl)
if user ~= '' then
  extend(P .. 'held:' .. user, mapTtl)
  bump('heldrev:' .. user)
end
bump('rev:' .. id)
return { 'ok', redis.call('HGET', P .. 'server:' .. id, 'endpoint'), replaced }
`;

/**
 * ticketRedeemed, applied by each balancer the server sent it to. ARGV: P, serverId, member
 * ("<jti> <pg>"), now, lbId, ttl. The first to apply it turns the seat into a player and marks it
 * unseen for the server's other holders until they apply it too. Returns 1 when a live seat was
 * redeemed.
 */
export const REDEEM_SCRIPT = `${COMMON}
local id, member, now, lb, ttl = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
redis.call('ZREM', P .. 'unseen:' .. id .. ':' .. lb, member)
local seats = P .. 'seats:' .. id
local score = redis.call('ZSCORE', seats, member)
if not score then return 0 end
redis.call('ZREM', seats, member)
if tonumber(score) <= now or redis.call('EXISTS', P .. 'server:' .. id) == 0 then return 0 end
redis.call('HINCRBY', P .. 'server:' .. id, 'players', 1)
local keep = tonumber(score) + ttl
for _, other in ipairs(redis.call('ZRANGEBYSCORE', P .. 'holders:' .. id, '(' .. now, '+inf')) do
  if other ~= lb then
    local unseen = P .. 'unseen:' .. id .. ':' .. other
    redis.call('ZADD', unseen, keep, member)
    extend(unseen, math.ceil(keep - now))
  end
end
return 1
`;

/**
 * This balancer lost the server's socket. ARGV: P, serverId, lbId, now, reason, dead list length,
 * orphan ms. Returns JSON {dead, dropped}.
 */
export const LOSE_SCRIPT = `${COMMON}
local id, lb, now, reason, keep, orphanMs = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local holders = P .. 'holders:' .. id
redis.call('ZREM', holders, lb)
if redis.call('ZCOUNT', holders, '(' .. now, '+inf') > 0 then return cjson.encode({ dead = false }) end
local sk = P .. 'server:' .. id
local endpoint = redis.call('HGET', sk, 'endpoint')
local dropped = {}
for _, pg in ipairs(redis.call('SMEMBERS', P .. 'hosted:' .. id)) do
  if getHome(pg) == id then
    redis.call('DEL', P .. 'pg:' .. pg)
    redis.call('SET', P .. 'orphan:' .. pg, '1', 'PX', orphanMs)
    table.insert(dropped, pg)
  end
end
redis.call('DEL', P .. 'hosted:' .. id, P .. 'seats:' .. id, holders, sk)
redis.call('SREM', P .. 'servers', id)
bump('rev:' .. id)
if not endpoint then return cjson.encode({ dead = false }) end
redis.call('LPUSH', P .. 'dead', cjson.encode({ serverId = id, endpoint = endpoint, diedAtMs = now,
  reason = reason, playgrounds = #dropped }))
redis.call('LTRIM', P .. 'dead', 0, keep - 1)
return cjson.encode({ dead = true, dropped = dropped })
`;

/** Keeps held servers alive. ARGV: P, lbId, now, ttl, serverId… */
export const REFRESH_SCRIPT = `${COMMON}
local lb, now, ttl = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 5, #ARGV do
  local id = ARGV[i]
  local sk = P .. 'server:' .. id
  if redis.call('EXISTS', sk) == 1 then
    local holders = P .. 'holders:' .. id
    redis.call('ZREMRANGEBYSCORE', holders, '-inf', now)
    redis.call('ZADD', holders, now + ttl, lb)
    redis.call('PEXPIRE', holders, ttl)
    redis.call('PEXPIRE', sk, ttl)
    local hosted = P .. 'hosted:' .. id
    for _, pg in ipairs(redis.call('SMEMBERS', hosted)) do
      if getHome(pg) == id then extend(P .. 'pg:' .. pg, ttl) end
    end
    extend(hosted, ttl)
  end
end
return 1
`;

/** ARGV: P, serverId. Returns 1 when the server exists. */
export const DRAIN_SCRIPT = `${COMMON}
local sk = P .. 'server:' .. ARGV[2]
if redis.call('EXISTS', sk) == 0 then return 0 end
redis.call('HSET', sk, 'draining', '1')
bump('rev:' .. ARGV[2])
return 1
`;

/** ARGV: P, playgroundId, now. Returns the live home's id or ''. */
export const HOME_SCRIPT = `${COMMON}
local home = getHome(ARGV[2])
if home and alive(home, tonumber(ARGV[3])) then return home end
return ''
`;

/**
 * Live servers with their figures. ARGV: P, now, serverId (optional: only that one). Returns JSON
 * [[fields…], pending, [balancer ids]].
 */
export const LIST_SCRIPT = `${COMMON}
local now = tonumber(ARGV[2])
local ids = ARGV[3] and { ARGV[3] } or redis.call('SMEMBERS', P .. 'servers')
local out = {}
for _, id in ipairs(ids) do
  if alive(id, now) then
    table.insert(out, {
      id,
      redis.call('HGETALL', P .. 'server:' .. id),
      redis.call('ZCOUNT', P .. 'seats:' .. id, '(' .. now, '+inf'),
      redis.call('ZRANGEBYSCORE', P .. 'holders:' .. id, '(' .. now, '+inf'),
    })
  end
end
return cjson.encode(out)
`;
