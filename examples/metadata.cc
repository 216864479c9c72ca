// Metadata surviving a restart: a node keeps its identity and a boot counter in a Metadata
// store. The first "process" creates it; the second reopens the same directory, finds
// everything it synced, bumps the counter with a cheap delta write and shows the statistics.
//
//   metadata_example [DIR]    (default: ./metadata-example; emptied first)
#include <strata/strata.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace {

using Store = strata::Metadata<std::string>;

int fail(const char* what, const strata::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
  return 1;
}

// One run of the application: open, bump the boot counter, sync, close (at scope exit).
int boot(const std::string& dir, std::uint64_t expected_boots) {
  auto md = Store::open(dir);
  if (!md) return fail("open", md.error());

  if (md->get("node_id") == nullptr) {
    // First boot: values are applied in memory by put() and made durable together by sync().
    if (!md->put("node_id", "node-7f3a").has_value()) return 1;
    if (!md->put("cluster", "mainnet").has_value()) return 1;
    // The peer table: a few KiB, so that rewriting the whole file costs more than a delta.
    for (int peer = 0; peer < 64; ++peer) {
      if (!md->put("peer/" + std::to_string(100 + peer),
                   "10.0.0." + std::to_string(peer) + ":7000 last_seen=0000000000")) {
        return 1;
      }
    }
  }
  std::uint64_t boots = 0;
  if (const std::string* b = md->get("boots")) {
    boots = strata::decode_be<std::uint64_t>(std::string_view(*b)).value_or(0);
  }
  // Fixed-width big-endian value: same length every time, so later syncs are delta writes.
  if (!md->put("boots", strata::concat_bytes(boots + 1)).has_value()) return 1;
  if (auto s = md->sync(); !s.ok()) return fail("sync", s);

  if (boots + 1 != expected_boots) {
    std::fprintf(stderr, "expected boot %llu, found %llu\n",
                 static_cast<unsigned long long>(expected_boots),
                 static_cast<unsigned long long>(boots + 1));
    return 1;
  }
  const auto& st = md->stats();
  std::printf("boot %llu of %s: version %llu, %llu rewrites, %llu delta writes, %llu bytes\n",
              static_cast<unsigned long long>(boots + 1), md->get("node_id")->c_str(),
              static_cast<unsigned long long>(md->version()),
              static_cast<unsigned long long>(st.rewrites),
              static_cast<unsigned long long>(st.overwrites),
              static_cast<unsigned long long>(st.bytes_written));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "metadata-example";
  std::filesystem::remove_all(dir);
  // Three "restarts": each reopens the directory the previous one synced and closed.
  for (std::uint64_t run = 1; run <= 3; ++run) {
    if (int rc = boot(dir, run); rc != 0) return rc;
  }
  // With the key set and value sizes unchanged, a sync writes only the changed bytes, the
  // version and the CRC (each file's first write after open is a full rewrite).
  auto md = Store::open(dir);
  if (!md) return fail("reopen", md.error());
  for (int i = 0; i < 4; ++i) {
    if (!md->put("boots", strata::concat_bytes(std::uint64_t{100} + static_cast<unsigned>(i)))) {
      return 1;
    }
    if (auto s = md->sync(); !s.ok()) return fail("sync", s);
  }
  if (md->stats().overwrites == 0) {
    std::fprintf(stderr, "expected delta writes after the first two rewrites\n");
    return 1;
  }
  std::printf("after 4 more syncs: %llu rewrites, %llu delta writes\n",
              static_cast<unsigned long long>(md->stats().rewrites),
              static_cast<unsigned long long>(md->stats().overwrites));
  return 0;
}
