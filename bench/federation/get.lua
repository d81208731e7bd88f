-- wrk: GET $EHR_BENCH_TARGET with $EHR_BENCH_AUTH as the Authorization header (when set);
-- prints "p50 p95 p99 (ms) requests/s non-2xx" on the last line.
local target = os.getenv("EHR_BENCH_TARGET")
local auth = os.getenv("EHR_BENCH_AUTH")
local failures = 0
request = function()
  local headers = {}
  if auth and auth ~= "" then headers["Authorization"] = auth end
  return wrk.format("GET", target, headers)
end
response = function(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
end
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT %.2f %.2f %.2f %.1f %d\n", latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, summary.requests / seconds, failures))
end
