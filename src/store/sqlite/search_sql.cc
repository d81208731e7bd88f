// store::SearchQuery as SQL over the index tables.
#include "store/sqlite/queries.h"

namespace ehr::store::sqlite {

Result<SearchPage> Search(Connection& c, const SearchQuery& q) {
  return Status::NotSupported(Code::kInvalid, "search is not implemented yet");
}

}  // namespace ehr::store::sqlite
