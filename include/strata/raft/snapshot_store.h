// strata/raft/snapshot_store.h — SnapshotStore: Raft snapshots (a state-machine image with the
// index, term and cluster configuration it covers) stored beside the log, with a file backend
// and a memory backend.
//
//   auto snaps = strata::raft::FileSnapshotStore::open("/var/lib/app/raft/snap");
//   STRATA_RETURN_IF_ERROR((*snaps)->save({.index = 900, .term = 4, .configuration = conf},
//                                         image));          // synced and atomic
//   auto newest = (*snaps)->load();                          // newest valid snapshot, if any
//
// Streaming, for images larger than memory:
//   auto w = snaps->create(meta);            // SnapshotWriter
//   w->append(chunk) ...; w->commit();       // synced and atomic, like save()
//   auto r = snaps->open_newest();           // SnapshotReader over the newest valid one
//   while ((n = r->read(buf)) > 0) ...;      // CRC checked again when the end is reached
//
// Semantics (every backend):
//   - save()/commit() are atomic and durable when they return OK: after a crash the snapshot
//     is there whole or not at all. Saving the (index, term) of an existing snapshot replaces
//     it atomically.
//   - load()/open_newest() return the newest *valid* snapshot, newest meaning highest (index,
//     term). A damaged snapshot is never returned; it is skipped, left on disk for inspection,
//     and reported in the LoadReport of the call (nothing is skipped without a trace).
//   - list() gives every snapshot present, oldest first, without reading the data.
//   - purge_older(index) removes the snapshots whose index is below `index` (damaged ones
//     included), durably.
//
// File backend layout:
//   <dir>/LOCK                                     flock held while open (busy elsewhere)
//   <dir>/snap-<index %020>-<term %020>.snap       one complete snapshot
//   <dir>/snap-<index %020>-<term %020>.tmp        a snapshot being written; deleted at open
//
// Snapshot file format (all integers big-endian):
//
//   header, 40 bytes at offset 0
//     offset width field
//     0      4     magic 0x53534E50 ("SSNP")
//     4      4     format version (1)
//     8      8     index (equals the file name's)
//     16     8     term (equals the file name's)
//     24     4     configuration length C
//     28     8     data length D
//     36     4     CRC32C of bytes [0, 36)
//   then
//     40     C     configuration bytes (opaque: the engine's encoding of its membership)
//     40+C   D     data (the state-machine image)
//   trailer, 8 bytes
//     40+C+D 4     CRC32C of bytes [40, 40+C+D): configuration and data
//     44+C+D 4     magic 0x53454E44 ("SEND")
//
// A file is valid when its header CRC, the name/header agreement, its length (exactly
// 48 + C + D), the trailer magic and the body CRC all check out.
//
// Writing: create() opens the temporary file and writes the header with D = 0; append() writes
// chunks and folds them into the body CRC; commit() writes the trailer and the final header
// (D and its CRC), fdatasyncs the file, renames it to its .snap name and fsyncs the directory:
// only then does it return OK. A crash at any point leaves at most a .tmp file (removed at the
// next open) or the complete new snapshot. A writer destroyed without commit() removes its
// temporary file.
//
// Thread-safety: a SnapshotStore is safe for concurrent use without external synchronization.
// A SnapshotWriter or SnapshotReader is used by one thread at a time; it must not outlive the
// store that made it. A reader keeps reading the file it opened even if the snapshot is
// purged meanwhile (POSIX semantics).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/file.h"
#include "strata/core/result.h"
#include "strata/core/status.h"

namespace strata::raft {

// What a snapshot covers.
struct SnapshotMeta {
  std::uint64_t index = 0;    // last log index the image includes; >= 1
  std::uint64_t term = 0;     // term of that entry; >= 1
  std::string configuration;  // cluster membership as of `index`, opaque to strata

  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

// A whole snapshot in memory.
struct Snapshot {
  SnapshotMeta meta;
  std::string data;

  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

// One snapshot present in a store, as listed or verified.
struct SnapshotFileInfo {
  std::string name;                // file name (file backend) or "memory:<index>-<term>"
  std::uint64_t index = 0;         // from the name
  std::uint64_t term = 0;          // from the name
  std::uint64_t file_bytes = 0;    // size of the file (file backend)
  std::uint64_t data_bytes = 0;    // D from the header (0 when the header is unreadable)
  std::uint64_t config_bytes = 0;  // C from the header
  Status status;                   // OK when verified valid; corruption/io_error otherwise;
                                   // OK and unchecked for list()
};

// What a load()/open_newest() call passed over on its way to the newest valid snapshot.
struct SnapshotLoadReport {
  std::vector<SnapshotFileInfo> skipped;  // newer snapshots found damaged, newest first
};

// Appends the chunks of one snapshot and commits it. Obtained from SnapshotStore::create().
class SnapshotWriter {
 public:
  virtual ~SnapshotWriter() = default;
  // Appends `chunk` to the data. After an error the writer is failed (commit returns it).
  [[nodiscard]] virtual Status append(std::string_view chunk) = 0;
  // Makes the snapshot durable and visible (see the file comment). Once only.
  [[nodiscard]] virtual Status commit() = 0;
  // Bytes of data appended so far.
  virtual std::uint64_t data_bytes() const noexcept = 0;
};

// Reads the data of one snapshot in chunks. Obtained from SnapshotStore::open_newest().
class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;
  virtual const SnapshotMeta& meta() const noexcept = 0;
  // D: the number of data bytes.
  virtual std::uint64_t data_bytes() const noexcept = 0;
  // Reads the next up to out.size() bytes of data; 0 at the end. Returns corruption if the
  // file changed since it was verified (the body CRC is checked again as the end is reached).
  virtual Result<std::size_t> read(std::span<char> out) = 0;
};

class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;

  // Starts a new snapshot. REQUIRES: meta.index >= 1 and meta.term >= 1 (else
  // invalid_argument).
  virtual Result<std::unique_ptr<SnapshotWriter>> create(const SnapshotMeta& meta) = 0;

  // A reader over the newest valid snapshot, nullopt when there is none. Damaged newer ones are
  // described in *report when given.
  virtual Result<std::optional<std::unique_ptr<SnapshotReader>>> open_newest(
      SnapshotLoadReport* report = nullptr) = 0;

  // Every snapshot present, oldest first (by index, then term), unverified.
  virtual Result<std::vector<SnapshotFileInfo>> list() = 0;

  // Reads and checks every snapshot present, oldest first: what strata-ctl shows.
  virtual Result<std::vector<SnapshotFileInfo>> verify() = 0;

  // Removes every snapshot whose index is below `index`, durably (damaged ones too).
  [[nodiscard]] virtual Status purge_older(std::uint64_t index) = 0;

  // create() + one append() + commit().
  [[nodiscard]] Status save(const SnapshotMeta& meta, std::string_view data);

  // The newest valid snapshot read whole into memory, nullopt when there is none.
  Result<std::optional<Snapshot>> load(SnapshotLoadReport* report = nullptr);

  // Chunk size load() and verify() read with. 1 MiB.
  static constexpr std::size_t kReadChunk = std::size_t{1} << 20;
};

struct FileSnapshotOptions {
  // The file system every operation goes through; tests pass a FaultFileSystem. Must outlive
  // the store. Default: FileSystem::posix().
  FileSystem* fs = nullptr;
  // Create the directory (durably) when missing. Default: true.
  bool create_if_missing = true;
  // Open for reading only: no lock, nothing created or removed (temporary files of a crash are
  // left alone); create() and purge_older() return not_supported. Default: false.
  bool read_only = false;
};

// What FileSnapshotStore::open found and cleaned.
struct FileSnapshotOpenReport {
  std::uint64_t snapshots = 0;       // .snap files present
  std::uint64_t temp_removed = 0;    // .tmp files left by a crash and removed
  std::vector<std::string> ignored;  // other names in the directory, left alone
};

class FileSnapshotStore : public SnapshotStore {
 public:
  // Opens (or creates) the store in `dir`, removing temporary files left by a crash, and
  // fsyncs the directory (unless read-only) before serving anything: a snapshot renamed into
  // place by a save whose directory fsync failed, or whose process died first, is visible in
  // this boot and must not vanish in a power cut after it was loaded. Errors:
  // busy (open elsewhere), not_found (no directory and !create_if_missing), io_error.
  static Result<std::unique_ptr<FileSnapshotStore>> open(const std::string& dir,
                                                         const FileSnapshotOptions& options = {});

  static constexpr std::size_t kHeaderSize = 40;
  static constexpr std::size_t kTrailerSize = 8;
  static constexpr std::uint32_t kMagic = 0x53534E50;     // "SSNP"
  static constexpr std::uint32_t kEndMagic = 0x53454E44;  // "SEND"
  static constexpr std::uint32_t kVersion = 1;

  virtual const FileSnapshotOpenReport& open_report() const noexcept = 0;
  // "<dir>/snap-<index %020>-<term %020>.snap".
  static std::string snapshot_path(const std::string& dir, std::uint64_t index, std::uint64_t term);
};

// Reads and checks every snapshot file in `dir` without opening a store (no lock taken, nothing
// removed): the reader strata-ctl uses. Names that are not snapshots are left out; .tmp files
// are listed with status aborted ("temporary file of an unfinished snapshot").
Result<std::vector<SnapshotFileInfo>> verify_snapshot_dir(FileSystem& fs, const std::string& dir);

// Snapshots in memory; nothing survives the process. Several handles made from one
// MemorySnapshotState see the same snapshots (tests "reopen" that way).
struct MemorySnapshotState {
  std::mutex mu;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::shared_ptr<const Snapshot>> snapshots;
};

class MemorySnapshotStore final : public SnapshotStore {
 public:
  explicit MemorySnapshotStore(
      std::shared_ptr<MemorySnapshotState> state = std::make_shared<MemorySnapshotState>())
      : state_(std::move(state)) {}

  Result<std::unique_ptr<SnapshotWriter>> create(const SnapshotMeta& meta) override;
  Result<std::optional<std::unique_ptr<SnapshotReader>>> open_newest(
      SnapshotLoadReport* report = nullptr) override;
  Result<std::vector<SnapshotFileInfo>> list() override;
  Result<std::vector<SnapshotFileInfo>> verify() override { return list(); }
  [[nodiscard]] Status purge_older(std::uint64_t index) override;

  const std::shared_ptr<MemorySnapshotState>& state() const noexcept { return state_; }

 private:
  std::shared_ptr<MemorySnapshotState> state_;
};

}  // namespace strata::raft
