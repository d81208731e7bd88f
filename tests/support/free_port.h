// A port for a server that must be named before it starts (a federation file, a PostgreSQL
// cluster): taken below the kernel's ephemeral range (32768 and up), where the servers of
// tests running alongside, which listen on port 0, never land; free when checked.
#pragma once

#include <cstdint>

namespace ehr::testing {

uint16_t FreePort();  // throws std::runtime_error when none is found

}  // namespace ehr::testing
