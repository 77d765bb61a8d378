-- POST a fixed form BODY with client credentials (BASIC = base64 of id:secret).
local report = dofile(os.getenv("LUA_DIR") .. "/report.lua")
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
function delay() return report.delay() end
function done(summary, latency, requests) report.done(summary, latency) end
