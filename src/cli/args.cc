#include "cli/args.h"

#include <stdexcept>

namespace ehr::cli {

Result<Args> ParseArgs(int argc, char** argv, int first, const std::set<std::string>& known) {
  Args out;
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      out.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= argc) return Status::Invalid("--" + name + " needs a value");
      value = argv[++i];
    }
    if (!known.count(name)) return Status::Invalid("unknown option --" + name);
    out.flags[name] = value;
  }
  return out;
}

Result<int> ParseInt(const std::string& flag, const std::string& value, int min, int max) {
  try {
    size_t used = 0;
    int v = std::stoi(value, &used);
    if (used != value.size() || v < min || v > max) throw std::out_of_range(flag);
    return v;
  } catch (const std::exception&) {
    return Status::Invalid("--" + flag + " must be an integer from " + std::to_string(min) + " to " +
                           std::to_string(max));
  }
}

}  // namespace ehr::cli
