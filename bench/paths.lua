-- wrk script: cycles through the requests listed in the file named by BENCH_REQUESTS, one per
-- line as "METHOD<TAB>PATH<TAB>BODY", each sent with the Cookie in BENCH_COOKIE.
local requests, index = {}, 0

local function load()
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local method, path, body = line:match("^(%u+)\t([^\t]*)\t?(.*)$")
    local headers = { Cookie = os.getenv("BENCH_COOKIE") }
    if method == "POST" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
    else
      body = nil
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
end

function init(args)
  load()
  index = math.random(#requests)
end

function request()
  index = index % #requests + 1
  return requests[index]
end
