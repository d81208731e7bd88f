// Minimal command-line flags: `--name value` or `--name=value`, plus positional arguments.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace ehr::cli {

struct Args {
  std::map<std::string, std::string> flags;
  std::vector<std::string> positional;

  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = flags.find(name);
    return it == flags.end() ? fallback : it->second;
  }
  bool Has(const std::string& name) const { return flags.count(name) > 0; }
};

// Parses argv[first..]; every flag must be in `known` (a typo is an error, not ignored).
Result<Args> ParseArgs(int argc, char** argv, int first, const std::set<std::string>& known);
Result<int> ParseInt(const std::string& flag, const std::string& value, int min, int max);

}  // namespace ehr::cli
