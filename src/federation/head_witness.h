// Hands this node's audit log heads to the federation's witness, the MPI (audit/witness.h,
// mpi/mpi_service.h): each pass takes the newest signed head of the log (published by
// audit::TreeHeadPublisher) and, when the witness holds an older one, sends it with the
// consistency proof from the size the witness holds. A refusal (the log does not extend
// what was witnessed: rolled back, rewritten, forked) is logged as an error every pass
// until someone looks; the witness keeps it too. Nothing personal is sent: sizes, hashes,
// a signature and the log's public key.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/witness.h"
#include "core/clock.h"
#include "core/status.h"
#include "net/fetch.h"
#include "security/node_token.h"
#include "store/store.h"

namespace ehr::federation {

struct WitnessOptions {
  std::string node;      // this node's name (whose heads)
  std::string mpi_url;   // base URL of the MPI
  std::string mpi_node;  // its node name (the tokens' audience)
  net::FetchOptions call;  // FederationConfig::CallOptions for the MPI
};

// What the witness holds of `options.node`'s log (none yet: nullopt), and how many of its
// heads it refused. kUnavailable when it cannot be asked.
struct WitnessView {
  std::optional<audit::WitnessedHead> head;
  int64_t refusals = 0;
  std::vector<std::string> resets;  // when its operator reset it (instants), oldest first
};
Result<WitnessView> AskWitness(const WitnessOptions& options, const security::NodeSigner& signer, Clock& clock);

class HeadWitness {
 public:
  // `public_key`: the key the log's heads are signed with (TreeHeadPublisher::public_key).
  HeadWitness(store::Store& store, std::string public_key, const security::NodeSigner& signer, Clock& clock,
              WitnessOptions options);

  // One pass: OK when the witness holds the newest head (or the log has none yet);
  // kConflict (the witness's reason) when it refused it; kUnavailable when it could not be
  // reached or answered otherwise.
  Status RunOnce();
  uint64_t witnessed_size() const { return witnessed_size_; }

 private:
  store::Store& store_;
  std::string public_key_;
  const security::NodeSigner& signer_;
  Clock& clock_;
  WitnessOptions options_;
  std::optional<uint64_t> held_;  // the size the witness holds, once known (0: none)
  uint64_t witnessed_size_ = 0;
};

}  // namespace ehr::federation
