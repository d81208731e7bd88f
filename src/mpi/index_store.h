// The Master Patient Index's storage (`ehr serve --role mpi`, DATA/mpi.db, SQLite): links
// pseudonym -> (region, patient id in that region's vault, identifier type), and the history
// of every change to them; and, as the federation's witness of its nodes' audit logs
// (audit/witness.h), each node's heads (sizes, roots, signatures) and the heads it refused.
// Nothing else: no identifier, no name, no clinical data.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/witness.h"
#include "core/clock.h"
#include "core/status.h"
#include "mpi/pseudonym.h"

namespace ehr::mpi {

struct Link {
  std::string pseudonym;
  std::string region;
  std::string patient;
  std::string type;
  Micros updated = 0;
};

struct LinkChange {
  int64_t seq = 0;
  Micros at = 0;
  std::string op;  // "add" or "remove"
  Link link;
};

class IndexStore {
 public:
  virtual ~IndexStore() = default;
  // Makes the links of (region, patient) exactly `links`: new ones added, missing ones
  // removed, each change in the history, in one transaction. Empty `links` removes the
  // patient (deleted in its vault). Idempotent: the same call again changes nothing.
  virtual Status Register(std::string_view region, std::string_view patient,
                          const std::vector<PatientPseudonym>& links) = 0;
  virtual Result<std::vector<Link>> Lookup(std::string_view pseudonym) = 0;
  // Every link of a region, by patient (reconciliation with its vault).
  virtual Result<std::vector<Link>> LinksOfRegion(std::string_view region) = 0;
  virtual Result<std::vector<LinkChange>> History(std::string_view region, std::string_view patient) = 0;

  // The newest head of `node`'s audit log witnessed (none yet: nullopt).
  virtual Result<std::optional<audit::WitnessedHead>> Witnessed(std::string_view node) = 0;
  // How many heads of `node` were refused.
  virtual Result<int64_t> WitnessRefusals(std::string_view node) = 0;
  // Keeps `next` (signed with `public_key`; `proof` from the newest head held) as `node`'s
  // newest head when it extends it (audit::CheckExtends), in one transaction with the
  // check; a refusal (kConflict, saying why) is kept too.
  virtual Status Witness(std::string_view node, const audit::TreeHead& next, std::string_view public_key,
                         const std::vector<std::string>& proof) = 0;
  // Forgets `node`'s head and refusals (kept in the database, no longer counted): its next
  // head starts again, as after a legitimate restore of the node from a backup. Returns the
  // size of the head that was held (0: none).
  virtual Result<uint64_t> ResetWitness(std::string_view node) = 0;
  // When `node`'s witness was reset, oldest first.
  virtual Result<std::vector<Micros>> WitnessResets(std::string_view node) = 0;
};

// Opens or creates the database (durable commits: synced before Register returns).
Result<std::unique_ptr<IndexStore>> OpenIndexStore(const std::string& path, Clock& clock);

}  // namespace ehr::mpi
