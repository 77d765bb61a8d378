-- The full password sign-in, one cycle per person and connection (run with -c equal to -t):
-- GET /authorize → GET /login (CSRF token, browser cookie) → POST /login (argon2id) →
-- GET /authorize/resume → the redirect with the code. Codes are appended to CODES_DIR for the
-- code-exchange scenario. The account has consented already, so no consent page.
local report = dofile(os.getenv("LUA_DIR") .. "/report.lua")
local counter, threads = 0, {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local step, ar, csrf, browser, session = 1, nil, nil, nil, nil
cycles = 0
local out

function init(args)
  out = io.open(os.getenv("CODES_DIR") .. "/codes-" .. tid .. ".txt", "a")
end

local function cookie_header()
  local c = {}
  if browser then c[#c + 1] = "eidp_browser=" .. browser end
  if session then c[#c + 1] = "eidp_session=" .. session end
  return table.concat(c, "; ")
end

function request()
  local h = { ["Cookie"] = cookie_header() }
  if step == 1 then
    session = nil
    return wrk.format("GET", os.getenv("AUTHORIZE_PATH"), { ["Cookie"] = cookie_header() })
  elseif step == 2 then
    return wrk.format("GET", "/login?ar=" .. ar, h)
  elseif step == 3 then
    h["Content-Type"] = "application/x-www-form-urlencoded"
    local body = "ar=" .. ar .. "&csrf=" .. csrf .. "&id_number=" .. os.getenv("ID_NUMBER") .. "&password=" .. os.getenv("PASSWORD_ENC")
    return wrk.format("POST", "/login", h, body)
  else
    return wrk.format("GET", "/authorize/resume?ar=" .. ar, h)
  end
end

local function set_cookies(headers)
  for k, v in pairs(headers) do
    if string.lower(k) == "set-cookie" then
      local b = string.match(v, "eidp_browser=([^;]+)")
      if b then browser = b end
      local s = string.match(v, "eidp_session=([^;]+)")
      if s then session = s end
    end
  end
end

local function location(headers)
  for k, v in pairs(headers) do
    if string.lower(k) == "location" then return v end
  end
  return ""
end

function response(status, headers, body)
  set_cookies(headers)
  if step == 1 then
    ar = string.match(location(headers), "ar=([%w%-_]+)")
    step = ar and 2 or 1
  elseif step == 2 then
    csrf = string.match(body, 'name="csrf" value="([^"]+)"')
    step = csrf and 3 or 1
  elseif step == 3 then
    step = (status == 303) and 4 or 1
  else
    local code = string.match(location(headers), "[?&]code=([%w%-_]+)")
    if code then
      cycles = cycles + 1
      out:write(code, "\n")
      out:flush()
    end
    step = 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("cycles") or 0) end
  report.done(summary, latency, string.format(',"cycles":%d', total))
end
