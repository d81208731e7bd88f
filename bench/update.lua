-- wrk: PUT a new version of a random Patient from $EHR_BENCH_IDS.
local ids = {}
for line in io.lines(os.getenv("EHR_BENCH_IDS")) do ids[#ids + 1] = line end
local n = 0
request = function()
  n = n + 1
  local id = ids[math.random(#ids)]
  local body = '{"resourceType":"Patient","id":"' .. id .. '","active":true,"name":[{"family":"Updated","given":["N' .. n .. '"]}],"birthDate":"1970-01-01"}'
  return wrk.format("PUT", "/fhir/Patient/" .. id, {["Content-Type"] = "application/fhir+json", ["Prefer"] = "return=minimal"}, body)
end
