"""State in Redis: for the replicas of a gateway on several hosts.

Every method that reads and writes runs as one Lua script, which Redis runs
atomically, so the promises of the interface hold across every process that
shares the server. Keys are the configured prefix plus a kind (`calls`,
`feed`, `lease`, `value`) and the caller's key in braces: a hash tag, so that
the keys one script touches share a slot should the server be a cluster.

Times are Redis's own clock (`TIME`), one clock for every replica whatever
their hosts' clocks say; a test may pass a clock of its own instead. Stored
times are compared with now rather than left to expire: keys carry an expiry
as well, only so that what nobody uses any more goes away.

What could grow is bounded:

- a budget key keeps only the latest `limit` slots in its window and expires
  one window after its latest slot; a hold expires when it ends;
- a feed expires `idle_ttl` seconds after its last change; a reader whose
  position is past a feed's last sequence number (the feed expired, or was
  evicted, and started again) gets every key again;
- a lease expires with its time;
- a value put with a `ttl` expires with it; values put without one, and those
  `put_if_absent` sets (the salt of `gateway.state.keys`), stay.

Redis with `maxmemory` should use an eviction policy that spares keys without
an expiry (`volatile-lru`), so that the salt is never evicted.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.state.base import Admission, Change, Usage

# Connections one process keeps to Redis at most; more callers wait for one.
_MAX_CONNECTIONS = 32
# Keys one HMGET reads in `since`.
_BATCH = 1000
_DAY = 86_400.0

# Now: ARGV[1] when the caller passes a clock, else Redis's own.
_NOW = """
local function now_from(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function fmt(x) return string.format('%.17g', x) end
local function ms(seconds) return math.max(1, math.ceil(seconds * 1000)) end
"""

# The earliest slot of gateway.state.base.next_slot, from the sorted set of slots
# taken in the window that ends now.
_NEXT_SLOT = """
local function next_slot(calls, hold, now, limit, window)
  local held = tonumber(redis.call('GET', hold) or '0')
  local slot = math.max(now, held)
  local since = '(' .. fmt(now - window)
  local latest = redis.call('ZREVRANGEBYSCORE', calls, '+inf', since, 'WITHSCORES', 'LIMIT', 0, 1)
  if #latest > 0 then slot = math.max(slot, tonumber(latest[2])) end
  local nth = redis.call(
    'ZREVRANGEBYSCORE', calls, '+inf', since, 'WITHSCORES', 'LIMIT', limit - 1, 1)
  if #nth > 0 then slot = math.max(slot, tonumber(nth[2]) + window) end
  return slot, held
end
"""

# KEYS: calls, hold. ARGV: now, limit, window, max_wait, member, keep, retain.
# Returns admitted (0 or 1), the delay, and the latest `keep` slots in the window
# (a copy the caller keeps for when Redis cannot be reached). The key keeps its
# latest `retain` slots, at least `limit`: what callers with a higher limit need.
_ADMIT = (
    _NOW
    + _NEXT_SLOT
    + """
local now = now_from(ARGV[1])
local limit, window, max_wait = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(now - window))
-- Only the latest `limit` slots decide the next one.
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -math.max(limit, tonumber(ARGV[7])) - 1)
local slot = next_slot(KEYS[1], KEYS[2], now, limit, window)
local delay = slot - now
if delay > max_wait then return {0, fmt(delay), {}} end
redis.call('ZADD', KEYS[1], fmt(slot), ARGV[5])
redis.call('PEXPIRE', KEYS[1], ms(slot - now + window))
local keep = tonumber(ARGV[6])
local recent = {}
if keep > 0 then recent = redis.call('ZRANGE', KEYS[1], -keep, -1, 'WITHSCORES') end
return {1, fmt(delay), recent}
"""
)

# KEYS: calls. ARGV: now, window, nonce, then each time taken elsewhere and how
# many slots were taken at it. A time holding that many slots already gets none.
_RECORD = (
    _NOW
    + """
local now, window = now_from(ARGV[1]), tonumber(ARGV[2])
local latest = now
for i = 4, #ARGV, 2 do
  local at = tonumber(ARGV[i])
  if at > now - window then
    local held = redis.call('ZCOUNT', KEYS[1], fmt(at), fmt(at))
    for n = held + 1, tonumber(ARGV[i + 1]) do
      redis.call('ZADD', KEYS[1], fmt(at), ARGV[3] .. ':' .. i .. ':' .. n)
    end
    latest = math.max(latest, at)
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ms(latest - now + window))
end
return 1
"""
)

# KEYS: hold. ARGV: now, seconds.
_HOLD = (
    _NOW
    + """
local now, seconds = now_from(ARGV[1]), tonumber(ARGV[2])
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if now + seconds > held then
  redis.call('SET', KEYS[1], fmt(now + seconds), 'PX', ms(seconds))
end
return 1
"""
)

# KEYS: calls, hold. ARGV: now, limit, window. Returns calls, wait, held_for.
_USAGE = (
    _NOW
    + _NEXT_SLOT
    + """
local now, limit, window = now_from(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local calls = redis.call('ZCOUNT', KEYS[1], '(' .. fmt(now - window), '+inf')
local slot, held = next_slot(KEYS[1], KEYS[2], now, limit, window)
return {calls, fmt(slot - now), fmt(math.max(0, held - now))}
"""
)

# KEYS: seq, order, values. ARGV: ttl in ms, then key and encoded value pairs.
_UPSERT = """
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
if #ARGV < 2 then return seq end
for i = 2, #ARGV, 2 do
  seq = seq + 1
  redis.call('ZADD', KEYS[2], seq, ARGV[i])
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
local ttl = tonumber(ARGV[1])
redis.call('SET', KEYS[1], seq, 'PX', ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return seq
"""

# KEYS: seq, order, values. ARGV: after, batch size (keys one HMGET reads, within
# the stack Redis gives a script). Returns last seq, keys, encoded values.
_SINCE = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local after, size = tonumber(ARGV[1]), tonumber(ARGV[2])
-- A position past the end belongs to a feed that has since started again.
if after > last then after = 0 end
local keys = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. after, '+inf')
local values = {}
for start = 1, #keys, size do
  local batch = {}
  for i = start, math.min(start + size - 1, #keys) do batch[#batch + 1] = keys[i] end
  local got = redis.call('HMGET', KEYS[3], unpack(batch))
  for i = 1, #got do values[#values + 1] = got[i] end
end
return {last, keys, values}
"""

# KEYS: lease. ARGV: now, owner, ttl. The value is "<expires> <owner>".
_LEASE = (
    _NOW
    + """
local function holder(key)
  local value = redis.call('GET', key)
  if not value then return nil, 0 end
  local space = string.find(value, ' ', 1, true)
  return string.sub(value, space + 1), tonumber(string.sub(value, 1, space - 1))
end
local function take(key, now, owner, ttl)
  redis.call('SET', key, fmt(now + ttl) .. ' ' .. owner, 'PX', ms(ttl))
  return 1
end
"""
)

_TRY_LEASE = (
    _LEASE
    + """
local now, owner, ttl = now_from(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local current, expires = holder(KEYS[1])
if current and current ~= owner and expires > now then return 0 end
return take(KEYS[1], now, owner, ttl)
"""
)

_RELEASE_LEASE = (
    _LEASE
    + """
local current = holder(KEYS[1])
if current == ARGV[2] then redis.call('DEL', KEYS[1]) end
return 1
"""
)

# KEYS: value. ARGV: value. Returns the value now stored.
_PUT_IF_ABSENT = """
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
"""

# KEYS: value. Returns the value and the ms it has to live (-1: no expiry).
_GET_WITH_TTL = """
local value = redis.call('GET', KEYS[1])
if not value then return {false, -2} end
return {value, redis.call('PTTL', KEYS[1])}
"""

# A feed's values: a set one, or a deletion.
_SET = b"v"
_DELETED = b"d"


class RedisState:
    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "gateway:",
        idle_ttl: float = 7 * _DAY,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._idle_ttl_ms = max(1, math.ceil(idle_ttl * 1000))
        self._clock = clock
        self._admit = client.register_script(_ADMIT)
        self._record = client.register_script(_RECORD)
        self._hold = client.register_script(_HOLD)
        self._usage = client.register_script(_USAGE)
        self._upsert = client.register_script(_UPSERT)
        self._since = client.register_script(_SINCE)
        self._try_lease = client.register_script(_TRY_LEASE)
        self._release_lease = client.register_script(_RELEASE_LEASE)
        self._put_if_absent = client.register_script(_PUT_IF_ABSENT)
        self._get_with_ttl = client.register_script(_GET_WITH_TTL)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        timeout: float,
        prefix: str = "gateway:",
        idle_ttl: float = 7 * _DAY,
        clock: Callable[[], float] | None = None,
    ) -> RedisState:
        """A state on the server at `url` (redis:// or rediss://). Every command
        gives up after `timeout` seconds, connecting included, and is not
        retried: a caller that has somewhere else to go goes there at once."""
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=_MAX_CONNECTIONS,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        return cls(Redis(connection_pool=pool), prefix=prefix, idle_ttl=idle_ttl, clock=clock)

    def _key(self, kind: str, key: str) -> str:
        return f"{self._prefix}{kind}:{{{key}}}"

    def _now(self) -> str:
        return "" if self._clock is None else repr(self._clock())

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        return await cast(Awaitable[Any], script(keys=keys, args=args))

    # Call admission

    async def admit(self, key: str, *, limit: int, window: float, max_wait: float) -> Admission:
        admission, _ = await self.admit_keeping(
            key, limit=limit, window=window, max_wait=max_wait, keep=0
        )
        return admission

    async def admit_keeping(
        self,
        key: str,
        *,
        limit: int,
        window: float,
        max_wait: float,
        keep: int,
        retain: int = 0,
    ) -> tuple[Admission, list[float]]:
        """`admit`, and when admitted the latest `keep` slots of the key's window,
        its own included: what a caller needs to go on alone, should Redis become
        unreachable (`gateway.state.fallback`). A caller admitting under a lower
        limit than others passes theirs as `retain`, so that the slots they need
        stay."""
        admitted, delay, recent = await self._run(
            self._admit,
            [self._key("calls", key), self._key("hold", key)],
            [self._now(), limit, repr(window), repr(max_wait), secrets.token_hex(8), keep, retain],
        )
        slots = [float(score) for score in recent[1::2]]
        return Admission(admitted=bool(admitted), delay=float(delay)), slots

    async def record(self, key: str, slots: Iterable[float], *, window: float) -> None:
        """Count `slots` as taken: slots a process took while it could not reach
        Redis, or slots a Redis that restarted lost. Those that already left the
        window are dropped, and so are those Redis holds already (as many slots
        at the same time), so that processes that record the same slots, or
        record slots Redis kept, count them once."""
        args: list[str] = [self._now(), repr(window), secrets.token_hex(8)]
        for slot, count in Counter(slots).items():
            args += [repr(slot), str(count)]
        await self._run(self._record, [self._key("calls", key)], args)

    async def hold(self, key: str, seconds: float) -> None:
        await self._run(self._hold, [self._key("hold", key)], [self._now(), repr(seconds)])

    async def usage(self, key: str, *, limit: int, window: float) -> Usage:
        calls, wait, held_for = await self._run(
            self._usage,
            [self._key("calls", key), self._key("hold", key)],
            [self._now(), limit, repr(window)],
        )
        return Usage(calls=int(calls), wait=float(wait), held_for=float(held_for))

    # Change feeds

    def _feed_keys(self, stream: str) -> list[str]:
        return [self._key(f"feed:{part}", stream) for part in ("seq", "order", "values")]

    async def upsert(self, stream: str, key: str, value: bytes | None) -> int:
        return await self.upsert_many(stream, [(key, value)])

    async def upsert_many(self, stream: str, changes: Iterable[Change]) -> int:
        args: list[Any] = [self._idle_ttl_ms]
        for key, value in changes:
            args += [key, _DELETED if value is None else _SET + value]
        return int(await self._run(self._upsert, self._feed_keys(stream), args))

    async def since(self, stream: str, seq: int) -> tuple[int, list[Change]]:
        last, keys, values = await self._run(self._since, self._feed_keys(stream), [seq, _BATCH])
        changes: list[Change] = [
            (key.decode(), None if value is None or value == _DELETED else bytes(value[1:]))
            for key, value in zip(keys, values, strict=True)
        ]
        return int(last), changes

    # Leases

    async def try_lease(self, name: str, owner: str, ttl: float) -> bool:
        args = [self._now(), owner, repr(ttl)]
        return bool(await self._run(self._try_lease, [self._key("lease", name)], args))

    async def release_lease(self, name: str, owner: str) -> None:
        await self._run(self._release_lease, [self._key("lease", name)], [self._now(), owner])

    # Small values

    async def get(self, key: str) -> bytes | None:
        # The client decodes nothing: Redis's answers are bytes.
        return cast(bytes | None, await self._client.get(self._key("value", key)))

    async def put(self, key: str, value: bytes | None, *, ttl: float | None = None) -> None:
        if value is None:
            await self._client.delete(self._key("value", key))
        elif ttl is None:
            await self._client.set(self._key("value", key), value)
        else:
            await self._client.set(self._key("value", key), value, px=max(1, math.ceil(ttl * 1000)))

    async def put_if_absent(self, key: str, value: bytes) -> bytes:
        return bytes(await self._run(self._put_if_absent, [self._key("value", key)], [value]))

    async def get_with_ttl(self, key: str) -> tuple[bytes | None, float | None]:
        """The value and the seconds it has to live (None: it stays)."""
        value, ttl = await self._run(self._get_with_ttl, [self._key("value", key)], [])
        if value is None:
            return None, None
        return bytes(value), None if ttl < 0 else ttl / 1000

    async def put_new(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Put `value` unless the key holds one; whether it was put."""
        px = None if ttl is None else max(1, math.ceil(ttl * 1000))
        return bool(await self._client.set(self._key("value", key), value, px=px, nx=True))

    async def server_id(self) -> str:
        """The id of the Redis server's run: another after it restarted."""
        info = await self._client.info("server")
        return str(info["run_id"])

    async def ping(self) -> None:
        """Raises unless the server answers."""
        await cast(Awaitable[Any], self._client.ping())

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._client.connection_pool.aclose()
