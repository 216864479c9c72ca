// FileMetaStore (strata/raft/file_meta_store.h).
#include "strata/raft/file_meta_store.h"

#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "strata/metadata/metadata.h"
#include "strata/raft/format.h"

namespace strata::raft {
namespace {

constexpr std::uint64_t kHardStateKey = 0;

class FileMetaStoreImpl final : public FileMetaStore {
 public:
  FileMetaStoreImpl(Metadata<std::uint64_t> md, std::optional<HardState> loaded)
      : md_(std::move(md)), state_(loaded), report_(md_.open_report()) {}

  Status save(const HardState& state) override {
    std::lock_guard lock(mu_);
    // A store that refuses writes says so even for the state it holds: after a failed save the
    // files may hold that newer state (a part of it written), so an OK would not be the truth;
    // a read-only store saves nothing.
    if (!md_.error().ok()) return md_.error();
    if (state_ == state) return Status();
    auto r = md_.put(kHardStateKey, format::encode_hard_state(state));
    if (!r) return r.error();
    STRATA_RETURN_IF_ERROR(md_.sync_both());
    state_ = state;
    return Status();
  }

  Result<std::optional<HardState>> load() const override {
    std::lock_guard lock(mu_);
    return state_;
  }

  const MetadataOpenReport& open_report() const noexcept override { return report_; }

 private:
  mutable std::mutex mu_;
  Metadata<std::uint64_t> md_;
  std::optional<HardState> state_;  // what is synced
  MetadataOpenReport report_;
};

}  // namespace

Result<std::unique_ptr<FileMetaStore>> FileMetaStore::open(const std::string& dir,
                                                           const FileMetaOptions& options) {
  MetadataOptions mo;
  mo.fs = options.fs;
  mo.create_if_missing = options.create_if_missing;
  mo.read_only = options.read_only;
  STRATA_ASSIGN_OR_RETURN(Metadata<std::uint64_t> md, Metadata<std::uint64_t>::open(dir, mo));
  const MetadataOpenReport& report = md.open_report();
  if (report.fallback && report.current >= 0 && !options.accept_rollback) {
    // Every save writes both files, so a lost file loses nothing — unless the lost one claims
    // to be more than one version ahead: then a state newer than the one kept may have been
    // saved (a vote the node would forget).
    const auto& kept = report.files[static_cast<std::size_t>(report.current)];
    const auto& lost = report.files[static_cast<std::size_t>(1 - report.current)];
    if (lost.claimed_version > kept.version + 1) {
      return Status::corruption(
          "hard state in " + dir + ": " + report.fallback_reason + "; the damaged file claims " +
          "version " + std::to_string(lost.claimed_version) + ", so a newer hard state than " +
          "the one kept may be lost (set FileMetaOptions::accept_rollback to open with it)");
    }
  }
  std::optional<HardState> loaded;
  if (const std::string* v = md.get(kHardStateKey)) {
    STRATA_ASSIGN_OR_RETURN(HardState hs, format::decode_hard_state(*v, dir));
    loaded = hs;
  }
  return std::unique_ptr<FileMetaStore>(std::make_unique<FileMetaStoreImpl>(std::move(md), loaded));
}

}  // namespace strata::raft
