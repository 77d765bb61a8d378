-- POST an insurance eligibility look-up (JSON) with a hospital's BEARER token, cycling
-- through the patients' ID numbers in PATIENTS_FILE (each thread its own share of them).
local report = dofile(os.getenv("LUA_DIR") .. "/report.lua")
local threads_total = tonumber(os.getenv("THREADS") or "2")
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local bodies, pos = {}, 0
local bearer = os.getenv("BEARER")
local purposes = { "outpatient", "admission", "emergency", "referral", "billing" }

function init(args)
  local n = 0
  for id in io.lines(os.getenv("PATIENTS_FILE")) do
    if n % threads_total == tid then
      bodies[#bodies + 1] = string.format(
        '{"patient":{"id_number":"%s"},"operator":{"name":"Nguyễn Thị Lan","id_number":"001185000777"},"facility":"01-001","purpose":"%s"}',
        id, purposes[(n % #purposes) + 1])
    end
    n = n + 1
  end
end

function request()
  pos = pos % #bodies + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. bearer,
  }, bodies[pos])
end

function delay() return report.delay() end
function done(summary, latency, requests) report.done(summary, latency) end
