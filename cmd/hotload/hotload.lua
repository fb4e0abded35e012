-- wrk script of cmd/hotload (wrk 4.1, LuaJIT). Settings come from the
-- environment, set by hotload for each wrk process:
--
--   HOTLOAD_ADDRS    comma-separated host:port list; thread i connects to
--                    entry i mod n (several replicas), else the URL's host
--   HOTLOAD_THREADS  wrk's -t, to deal the refresh chains out to threads
--   HOTLOAD_METHOD   request method (default GET)
--   HOTLOAD_BODY     request body file (optional)
--   HOTLOAD_REFRESH  file of refresh tokens, one a line: each request is a
--                    CreateToken refresh_token grant whose body is
--                    HOTLOAD_REFRESH_PREFIX .. token .. '"}'; the answer's
--                    refreshToken goes back into the thread's pool
--
-- done() prints one line "hotload: key=value ..." that hotload parses.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  local addrs = os.getenv("HOTLOAD_ADDRS")
  if addrs and addrs ~= "" then
    local list = {}
    for a in string.gmatch(addrs, "[^,]+") do
      list[#list + 1] = a
    end
    local host, port = string.match(list[(counter % #list) + 1], "^(.*):(%d+)$")
    thread.addr = wrk.lookup(host, port)[1]
  end
  counter = counter + 1
  table.insert(threads, thread)
end

local function readfile(name)
  local f = assert(io.open(name, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

function init(args)
  wrk.method = os.getenv("HOTLOAD_METHOD") or "GET"
  local body = os.getenv("HOTLOAD_BODY")
  if body and body ~= "" then
    wrk.body = readfile(body)
  end
  bad = 0
  local chains = os.getenv("HOTLOAD_REFRESH")
  if chains and chains ~= "" then
    local n = tonumber(os.getenv("HOTLOAD_THREADS"))
    pool = {}
    local i = 0
    for tok in string.gmatch(readfile(chains), "[^\n]+") do
      if i % n == id then
        pool[#pool + 1] = tok
      end
      i = i + 1
    end
    prefix = os.getenv("HOTLOAD_REFRESH_PREFIX")
    headers = { ["Content-Type"] = "application/json" }
  end
end

if os.getenv("HOTLOAD_REFRESH") and os.getenv("HOTLOAD_REFRESH") ~= "" then
  -- A connection's next request is built only after its previous answer
  -- went through response(), so a thread with as many chains as
  -- connections always finds a token in its pool while no answer failed.
  -- wrk calls request() once more on the first thread before the load, to
  -- check the script (script_verify_request): hotload deals every thread
  -- one chain more than its connections.
  function request()
    local tok = pool and table.remove(pool) or ""
    return wrk.format("POST", "/token", headers, (prefix or "") .. tok .. '"}')
  end

  function response(status, hdrs, body)
    local tok = status == 200 and string.match(body, '"refreshToken":"([^"]+)"')
    if tok then
      pool[#pool + 1] = tok
      return
    end
    bad = bad + 1
    if not first_bad then
      first_bad = status .. " " .. string.sub(body, 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do
    b = b + (t:get("bad") or 0)
    local f = t:get("first_bad")
    if f then
      io.write("hotload-bad: " .. string.gsub(f, "\n", " ") .. "\n")
    end
  end
  local e = summary.errors
  io.write(string.format("hotload: requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d " ..
    "errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d bad=%d\n",
    summary.requests, summary.duration, math.floor(latency:percentile(50)), math.floor(latency:percentile(99)),
    math.floor(latency.max), e.status, e.connect, e.read, e.write, e.timeout, b))
end
