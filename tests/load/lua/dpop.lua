-- GET the URL given to wrk with `Authorization: DPoP $ACCESS_TOKEN` and the next single-use
-- DPoP proof from TOKENS_FILE (tests/load/kyc_seed.rs makes them). Threads take interleaved
-- lines so no two threads share a proof.
local report = dofile(os.getenv("LUA_DIR") .. "/report.lua")
local threads_total = tonumber(os.getenv("THREADS") or "2")
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

-- Wall-clock window of successful answers, so a run that exhausts its values early still
-- reports the rate it reached (LuaJIT's ffi reads CLOCK_MONOTONIC).
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } eidp_ts; int clock_gettime(int, eidp_ts *); ]]
local ts = ffi.new("eidp_ts")
local function now_us()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end
first_us, last_ok_us, ok = 0, 0, 0

local values, pos = {}, 0
local token = os.getenv("ACCESS_TOKEN")

function init(args)
  local n = 0
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    if n % threads_total == tid then values[#values + 1] = line end
    n = n + 1
  end
end

function request()
  if first_us == 0 then first_us = now_us() end
  pos = pos + 1
  local v = values[pos] or "exhausted"
  return wrk.format("GET", nil, {
    ["Authorization"] = "DPoP " .. token,
    ["DPoP"] = v,
  })
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    last_ok_us = now_us()
  end
end

function delay() return report.delay() end

function done(summary, latency, requests)
  local n, first, last = 0, math.huge, 0
  for _, t in ipairs(threads) do
    n = n + (t:get("ok") or 0)
    local f, l = t:get("first_us") or 0, t:get("last_ok_us") or 0
    if f > 0 and f < first then first = f end
    if l > last then last = l end
  end
  local window = (last > first) and (last - first) or 0
  report.done(summary, latency, string.format(',"ok":%d,"ok_window_us":%d', n, window))
end
