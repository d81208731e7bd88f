-- wrk: POST a new Patient (about 1 KB) per request.
local body = [[{"resourceType":"Patient","active":true,"name":[{"use":"official","family":"Benchmark","given":["Ada","Maria"]}],"gender":"female","birthDate":"1984-03-12","telecom":[{"system":"phone","value":"+44 20 7946 0000","use":"home"}],"address":[{"line":["1 Example Street"],"city":"London","postalCode":"SW1A 1AA","country":"GB"}],"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}]}]]
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/fhir+json"
wrk.headers["Prefer"] = "return=minimal"
