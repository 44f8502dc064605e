-- wrk script: cycles through the requests listed in the file named by BENCH_REQUESTS, one per
-- line as "METHOD<TAB>PATH<TAB>BODY", each sent with the Cookie in BENCH_COOKIE; a POST's form
-- body gets the CSRF token in BENCH_CSRF, as the page's own form would send it.
-- Every answer that is not a 200 whose body holds BENCH_MARKER is counted by kind and printed
-- as "wrong <kind>: <count>" lines: a benchmark of redirects or refusals measures nothing.
local requests, index = {}, 0
wrong = {}  -- global: done() reads each thread's copy with thread:get
local threads = {}
local marker = os.getenv("BENCH_MARKER") or ""

local function load()
  local csrf = os.getenv("BENCH_CSRF") or ""
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local method, path, body = line:match("^(%u+)\t([^\t]*)\t?(.*)$")
    local headers = { Cookie = os.getenv("BENCH_COOKIE") }
    if method == "POST" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      body = body .. "&csrf_token=" .. csrf
    else
      body = nil
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
end

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  load()
  index = math.random(#requests)
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  local kind
  if status ~= 200 then
    kind = "status " .. status
  elseif marker ~= "" and not string.find(body, marker, 1, true) then
    kind = "no marker"
  end
  if kind then
    wrong[kind] = (wrong[kind] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for kind, count in pairs(thread:get("wrong") or {}) do
      total[kind] = (total[kind] or 0) + count
    end
  end
  for kind, count in pairs(total) do
    io.write(string.format("wrong %s: %d\n", kind, count))
  end
end
