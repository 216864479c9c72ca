// libFuzzer target: Metadata::open on a directory whose "left" and "right" files are made of
// the input, for u64 and string keys. The open must never crash and fail only with a clear
// status; an opened store takes a put and a sync (unless at the last version), and a reopen
// serves exactly what it held then.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "strata/metadata/metadata.h"

using strata::fuzz::check;

namespace {

template <class Key>
std::map<Key, std::string> contents(const strata::Metadata<Key>& md) {
  std::map<Key, std::string> out;
  md.for_each([&](const Key& k, std::string_view v) { out.emplace(k, std::string(v)); });
  return out;
}

template <class Key>
void run(std::string_view left, std::string_view right, Key key) {
  const std::string dir = strata::fuzz::fresh("md");
  if (!left.empty()) strata::fuzz::write_file(dir + "/left", left);
  if (!right.empty()) strata::fuzz::write_file(dir + "/right", right);
  std::map<Key, std::string> got;
  {
    auto md = strata::Metadata<Key>::open(dir);
    if (!md.has_value()) {
      const strata::Status& s = md.error();
      check(s.is_corruption() || s.is_not_supported() || s.is_invalid_argument(),
            "open failed with " + s.to_string());
      strata::fuzz::refused(s.to_string());
      return;
    }
    got = contents(*md);
    check(md->put(key, "after").has_value(), "put");
    const strata::Status s = md->sync();
    if (md->version() == ~std::uint64_t{0}) return;  // a crafted last version: no next one
    check(s.ok(), "sync on an opened store: " + s.to_string());
    got = contents(*md);
  }
  auto again = strata::Metadata<Key>::open(dir);
  check(again.has_value(), "reopen after a sync failed");
  check(contents(*again) == got, "reopen serves other entries");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.empty()) return 0;
  const bool string_keys = (static_cast<unsigned char>(in[0]) & 1) != 0;
  in.remove_prefix(1);
  const auto [left, right] = strata::fuzz::split(in);
  if (string_keys) {
    run<std::string>(left, right, std::string("fuzz-key"));
  } else {
    run<std::uint64_t>(left, right, std::uint64_t{4242});
  }
  return 0;
}
