// tests/fuzz/fuzz_util.h — what strata's libFuzzer targets share: a scratch directory per
// process, writing a file of the input's bytes, and a check that aborts (libFuzzer then saves
// the input as a crash) with a message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>

namespace strata::fuzz {

// A directory of this process's own, emptied by fresh().
inline const std::string& scratch() {
  static const std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    return tmpl;
  }();
  return dir;
}

// An empty directory `name` under scratch().
inline std::string fresh(const std::string& name) {
  const std::string dir = scratch() + "/" + name;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) std::abort();
}

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "strata fuzz check failed: %s\n", what.c_str());
  std::abort();
}
inline void check(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

// STRATA_FUZZ_VERBOSE=1: the targets say why an open refused its input (to check that a seed
// opens: build-fuzz/tests/fuzz/strata_fuzz_<target> <seed-file>).
inline void refused(const std::string& why) {
  static const bool verbose = std::getenv("STRATA_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "refused: %s\n", why.c_str());
}

// Splits the input: a 2-byte length, that many bytes (or what is left), the rest.
inline std::pair<std::string_view, std::string_view> split(std::string_view in) {
  if (in.size() < 2) return {in, {}};
  const std::size_t n = std::size_t{static_cast<unsigned char>(in[0])} << 8 |
                        std::size_t{static_cast<unsigned char>(in[1])};
  in.remove_prefix(2);
  const std::size_t k = n < in.size() ? n : in.size();
  return {in.substr(0, k), in.substr(k)};
}

}  // namespace strata::fuzz
