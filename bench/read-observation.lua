-- wrk: GET a random Observation from the ids listed in $EHR_BENCH_OBS_IDS (bodies without
-- sensitive identifiers: sealed only with --encrypt-bodies on).
local ids = {}
for line in io.lines(os.getenv("EHR_BENCH_OBS_IDS")) do ids[#ids + 1] = line end
request = function()
  return wrk.format("GET", "/fhir/Observation/" .. ids[math.random(#ids)])
end
