-- wrk script for LunaRoute's end-to-end benchmark (driven by bench/e2e/wrk_run.py).
-- Posts one fixed chat request body, read once at load time, so wrk sends it without
-- calling Lua per request. Environment:
--   BENCH_BODY_FILE  file holding the JSON body (the harness writes one per scenario into
--                    its scratch dir; `run_bench.py --write-bodies DIR` writes them for
--                    manual runs)
--   BENCH_DIALECT    openai | anthropic (sets the auth / version headers)
--   BENCH_PATH       request path, e.g. /v1/chat/completions or /stream/v1/messages
--   BENCH_STREAM     1 = ask for text/event-stream
--   BENCH_VERIFY     1 = also check every response (status 200 and BENCH_MARKER in the
--                    body) and count bad ones; costs wrk CPU, so only the short
--                    verification pass uses it
--   BENCH_MARKER     substring every good response body contains
--   BENCH_API_KEY    a LunaRoute client key to send instead of the dummy provider key
-- done() prints one line: WRKJSON {...}: counts and latency percentiles in microseconds.

local dialect = os.getenv("BENCH_DIALECT") or "openai"
local stream = os.getenv("BENCH_STREAM") == "1"
local verify = os.getenv("BENCH_VERIFY") == "1"
local marker = os.getenv("BENCH_MARKER") or ""
local body_file = os.getenv("BENCH_BODY_FILE")
local api_key = os.getenv("BENCH_API_KEY")

local f = body_file and io.open(body_file, "rb")
if not f then
  io.stderr:write("chat.lua: set BENCH_BODY_FILE to a readable request body file\n")
  os.exit(2)
end
wrk.body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or (dialect == "anthropic" and "/v1/messages" or "/v1/chat/completions")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = stream and "text/event-stream" or "application/json"
if dialect == "anthropic" then
  wrk.headers["x-api-key"] = api_key or "sk-ant-bench-dummy"
  wrk.headers["anthropic-version"] = "2023-06-01"
else
  wrk.headers["Authorization"] = "Bearer " .. (api_key or "sk-bench-dummy")
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  checked = 0
end

if verify then
  function response(status, headers, body)
    checked = checked + 1
    if status ~= 200 or body == nil or not string.find(body, marker, 1, true) then
      bad = bad + 1
    end
  end
end

function done(summary, latency, requests)
  local bad_total, checked_total = 0, 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + (t:get("bad") or 0)
    checked_total = checked_total + (t:get("checked") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"verify":{"enabled":%s,"checked":%d,"bad":%d},'
      .. '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,'
      .. '"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d},"request_body_bytes":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    tostring(verify), checked_total, bad_total,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), #wrk.body))
end
