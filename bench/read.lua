-- wrk: GET a random Patient from the ids listed in $EHR_BENCH_IDS.
local ids = {}
for line in io.lines(os.getenv("EHR_BENCH_IDS")) do ids[#ids + 1] = line end
request = function()
  return wrk.format("GET", "/fhir/Patient/" .. ids[math.random(#ids)])
end
