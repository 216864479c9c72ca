// strata/store/detail/string_map.h — a hash map keyed by std::string that is looked up with a
// std::string_view (heterogeneous lookup: no string is built to find a key). Shared by the
// indexed batches (OverlayBatch, RocksDbIndexedBatch).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "strata/store/detail/key_hash.h"

namespace strata::detail {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return hash_key(s); }
};

template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

}  // namespace strata::detail
