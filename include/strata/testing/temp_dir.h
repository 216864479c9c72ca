// strata/testing/temp_dir.h — a fresh directory for one test, removed with its contents when
// the object is destroyed.
//
// Thread-safety: one object per test; not shared.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace strata::testing {

class TempDir {
 public:
  // Where the directory is made when TMPDIR is not set.
  enum class Medium {
    kDisk,  // /tmp
    // /dev/shm when there is one (else /tmp): for tests that write much and need no real disk,
    // such as crash sweeps whose crash states FaultFileSystem rewrites.
    kMemoryWhenAvailable,
  };

  // Creates <base>/strata-<tag>-XXXXXX, <base> being $TMPDIR when set, else as `medium` says.
  explicit TempDir(const std::string& tag = "test", Medium medium = Medium::kDisk) {
    const char* env = std::getenv("TMPDIR");
    std::string base = env != nullptr && *env != '\0' ? env : "/tmp";
    std::error_code ec;
    if ((env == nullptr || *env == '\0') && medium == Medium::kMemoryWhenAvailable &&
        std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) {
      base = "/dev/shm";
    }
    std::string templ = base + "/strata-" + tag + "-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) std::abort();
    path_ = templ;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const noexcept { return path_; }
  std::string str() const { return path_.string(); }
  // path() / name, as a string.
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace strata::testing
