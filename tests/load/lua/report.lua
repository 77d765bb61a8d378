-- Shared by the scenarios: print one JSON line with what the harness reports.
local M = {}

function M.done(summary, latency, extra)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_us":%d,"p99_us":%d%s}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), extra or ""))
end

-- Optional pacing for the half-peak latency runs: DELAY_MS between requests per connection.
function M.delay()
  local d = tonumber(os.getenv("DELAY_MS") or "0")
  return d
end

return M
