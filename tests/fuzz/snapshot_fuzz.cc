// libFuzzer target: FileSnapshotStore on a directory holding one snapshot file made of the
// input. open, verify and load must never crash; load returns the snapshot only when verify
// calls it valid, and then exactly the data its header claims.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "strata/raft/snapshot_store.h"

using strata::fuzz::check;
using strata::raft::FileSnapshotStore;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string dir = strata::fuzz::fresh("snap");
  strata::fuzz::write_file(FileSnapshotStore::snapshot_path(dir, 20, 3), in);
  auto store = FileSnapshotStore::open(dir);
  check(store.has_value(), "open of a snapshot directory failed");
  auto verified = (*store)->verify();
  check(verified.has_value(), "verify failed as a whole");
  bool valid = false;
  for (const auto& f : *verified) valid = valid || f.status.ok();
  auto loaded = (*store)->load();
  if (!loaded.has_value()) return 0;  // a clear status
  check(loaded->has_value() == valid, "load and verify disagree");
  if (loaded->has_value()) {
    check((*loaded)->meta.index == 20 && (*loaded)->meta.term == 3, "load serves another snapshot");
  }
  return 0;
}
