"""`evaluate.py` in Lua, run atomically inside Redis (one EVALSHA per admit, one per charge).

Records are hashes with fields a, b, c, d (the four floats of `plan.py`). Numbers cross as
decimal strings that round-trip exactly (Python `repr`, Lua `%.17g`), so a stored period
start compares equal to the one the client computed. Keys expire once they no longer matter:
a bucket a minute after it would be full again, a window an hour after its period ends
(both measured on the caller's clock, so a test's injected clock works too).
"""

from __future__ import annotations

_COMMON = r"""
local EPS = 1e-9
local SLACK = 60
-- ARGV[1] is the time; ARGV[2] every other number, comma-separated (one argument, so the
-- client encodes two values per call, not dozens). A[1] is the time, A[2]... the rest.
local A = {ARGV[1]}
for v in string.gmatch(ARGV[2], '[^,]+') do A[#A + 1] = v end
local function num(x) return string.format('%.17g', x) end
local function refill(key, rate, burst, now)
  local r = redis.call('HMGET', key, 'a', 'b')
  local level, at = tonumber(r[1]) or 0, tonumber(r[2]) or 0
  if at <= 0 then return burst, now end
  if now > at then return math.min(burst, level + (now - at) * rate), now end
  return math.min(level, burst), at
end
local function put_bucket(key, level, at, rate, burst, now)
  redis.call('HSET', key, 'a', level, 'b', at)
  local full_in = (burst - level) / rate + (at - now)
  redis.call('PEXPIRE', key, math.ceil((math.max(full_in, 0) + SLACK) * 1000))
end
local function usage_of(key, start)
  local r = redis.call('HMGET', key, 'a', 'b', 'c', 'd')
  if (tonumber(r[1]) or 0) ~= start then return 0, 0, 0 end
  return tonumber(r[2]) or 0, tonumber(r[3]) or 0, tonumber(r[4]) or 0
end
local function put_window(key, start, tokens, requests, cost, wend, now)
  redis.call('HSET', key, 'a', start, 'b', tokens, 'c', requests, 'd', cost)
  redis.call('PEXPIRE', key, math.ceil((math.max(wend - now, 0) + 3600) * 1000))
end
"""

# KEYS: windows (nw), plan buckets (nk), one throttle bucket per budget (nb)
# A: now, nw, nb, nk; per window: budget (0-based), start, end, tokens, requests, cost;
#       per budget: soft_fraction, throttles, blocks, throttle rate, throttle burst;
#       per bucket: rate, burst, kind
# Returns: {status, retry_after, window (0-based or -1), soft ("0"/"1" per budget), usage...}
ADMIT = (
    _COMMON
    + r"""
local now = tonumber(A[1])
local nw, nb, nk = tonumber(A[2]), tonumber(A[3]), tonumber(A[4])
local a = 5
local W, B, K = {}, {}, {}
for i = 1, nw do
  W[i] = {budget = tonumber(A[a]) + 1, start = tonumber(A[a + 1]), wend = tonumber(A[a + 2]),
          t = tonumber(A[a + 3]), q = tonumber(A[a + 4]), c = tonumber(A[a + 5])}
  a = a + 6
end
for j = 1, nb do
  B[j] = {soft = tonumber(A[a]), throttles = A[a + 1] == '1', blocks = A[a + 2] == '1',
          rate = tonumber(A[a + 3]), burst = tonumber(A[a + 4]), key = KEYS[nw + nk + j]}
  a = a + 5
end
for k = 1, nk do
  K[k] = {key = KEYS[nw + k], rate = tonumber(A[a]), burst = tonumber(A[a + 1]), kind = tonumber(A[a + 2])}
  a = a + 3
end

local U = {}
local flat = {}
for i = 1, nw do
  local t, q, c = usage_of(KEYS[i], W[i].start)
  U[i] = {t, q, c}
  flat[#flat + 1] = num(t); flat[#flat + 1] = num(q); flat[#flat + 1] = num(c)
end
local function reply(status, retry, window, soft)
  local out = {status, num(retry), window, soft}
  for _, v in ipairs(flat) do out[#out + 1] = v end
  return out
end

local ex_end, ex_at = -math.huge, -1
for i = 1, nw do
  local w, u = W[i], U[i]
  if (w.t >= 0 and u[1] >= w.t) or (w.q >= 0 and u[2] + 1 > w.q) or (w.c >= 0 and u[3] >= w.c) then
    if w.wend > ex_end then ex_end, ex_at = w.wend, i - 1 end
  end
end
if ex_at >= 0 then return reply(2, ex_end - now, ex_at, '') end

local function ratio(used, limit)
  if limit < 0 then return 0 end
  if limit == 0 then return math.huge end
  return used / limit
end
local R, until_ = {}, {}
for j = 1, nb do R[j] = 0; until_[j] = -math.huge end
for i = 1, nw do
  local w, u = W[i], U[i]
  local r = math.max(ratio(u[1], w.t), ratio(u[2], w.q), ratio(u[3], w.c))
  if r > R[w.budget] then R[w.budget] = r end
  if r >= B[w.budget].soft and w.wend > until_[w.budget] then until_[w.budget] = w.wend end
end
local soft = {}
local checks = {}
for k = 1, nk do checks[k] = K[k] end
for j = 1, nb do
  local s = R[j] >= B[j].soft
  soft[j] = s and '1' or '0'
end
local softs = table.concat(soft)
for j = 1, nb do
  if soft[j] == '1' then
    if B[j].blocks then return reply(2, until_[j] - now, -1, softs) end
    if B[j].throttles then
      checks[#checks + 1] = {key = B[j].key, rate = B[j].rate, burst = B[j].burst, kind = 1}
    end
  end
end

local levels = {}
local wait = 0
for n, b in ipairs(checks) do
  local level, at = refill(b.key, b.rate, b.burst, now)
  if level + EPS < 1 then wait = math.max(wait, (1 - level) / b.rate) end
  levels[n] = {level, at}
end
if wait > 0 then return reply(1, wait, -1, softs) end

for n, b in ipairs(checks) do
  if b.kind == 1 then put_bucket(b.key, levels[n][1] - 1, levels[n][2], b.rate, b.burst, now) end
end
for i = 1, nw do
  put_window(KEYS[i], W[i].start, U[i][1], U[i][2] + 1, U[i][3], W[i].wend, now)
end
return reply(0, 0, -1, softs)
"""
)

# KEYS: windows (nw), token buckets (nk)
# A: now, nw, nk; per window: start, end, tokens, cost; per bucket: rate, burst, tokens
# Returns the windows' usage after the charge, flat.
CHARGE = (
    _COMMON
    + r"""
local now = tonumber(A[1])
local nw, nk = tonumber(A[2]), tonumber(A[3])
local a = 4
local out = {}
for i = 1, nw do
  local start, wend = tonumber(A[a]), tonumber(A[a + 1])
  local t, q, c = usage_of(KEYS[i], start)
  t = t + tonumber(A[a + 2]); c = c + tonumber(A[a + 3])
  put_window(KEYS[i], start, t, q, c, wend, now)
  out[#out + 1] = num(t); out[#out + 1] = num(q); out[#out + 1] = num(c)
  a = a + 4
end
for k = 1, nk do
  local key, rate, burst = KEYS[nw + k], tonumber(A[a]), tonumber(A[a + 1])
  local level, at = refill(key, rate, burst, now)
  put_bucket(key, level - tonumber(A[a + 2]), at, rate, burst, now)
  a = a + 3
end
return out
"""
)
