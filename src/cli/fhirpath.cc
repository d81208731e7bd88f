// ehr fhirpath 'EXPRESSION' [FILE.json]: evaluates an expression over a resource (from the
// file, or standard input when no file or "-" is given) and prints the result collection as
// one JSON array. Exit 0 on success; 1 with the message (and its position) on a syntax or
// evaluation error; 2 on a usage or input problem.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "fhir/fhirpath/fhirpath.h"
#include "fhir/json/value.h"

namespace ehr::cli {

int FhirPath(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: ehr fhirpath 'EXPRESSION' [FILE.json]\n");
    return 2;
  }
  std::string text;
  const std::string path = argc == 4 ? argv[3] : "-";
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "ehr fhirpath: cannot read %s\n", path.c_str());
      return 2;
    }
    std::stringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  Result<json::Value> resource = json::Parse(text);
  if (!resource.ok()) {
    std::fprintf(stderr, "ehr fhirpath: the input is not JSON: %s\n", resource.status().message().c_str());
    return 2;
  }
  Result<fhirpath::Expression> expression = fhirpath::Expression::Compile(argv[2]);
  if (!expression.ok()) {
    std::fprintf(stderr, "%s\n", expression.status().message().c_str());
    return 1;
  }
  Result<fhirpath::EvalResult> result = expression->Evaluate(*resource);
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n", result.status().message().c_str());
    return 1;
  }
  json::Value out = json::Value::MakeArray();
  for (const fhirpath::Item& item : result->items) out.as_array().push_back(fhirpath::ToJson(item));
  std::printf("%s\n", json::Write(out).c_str());
  return 0;
}

}  // namespace ehr::cli
