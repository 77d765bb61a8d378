-- GET the URL given to wrk, optionally with a bearer token (BEARER).
local report = dofile(os.getenv("LUA_DIR") .. "/report.lua")
wrk.method = "GET"
local bearer = os.getenv("BEARER")
if bearer and bearer ~= "" then wrk.headers["Authorization"] = "Bearer " .. bearer end
function delay() return report.delay() end
function done(summary, latency, requests) report.done(summary, latency) end
