// strata/metadata/metadata.h — Metadata<Key>: a crash-safe key-value store for a small set of
// metadata (up to ~100k keys, values up to a few MiB), all of it in memory, that commits many
// updates atomically in one sync().
//
//   auto md = strata::Metadata<std::uint64_t>::open("/var/lib/app/meta");
//   if (!md) return md.error();
//   (void)md->put(1, "hello");            // applied: visible to get(), not yet durable
//   STRATA_RETURN_IF_ERROR(md->sync());   // synced: survives power loss, atomically
//
// Durability: put/remove/clear change the in-memory map only. sync() writes the state to the
// OLDER of two files, `left` and `right`, with version = newest + 1, fdatasyncs it, and only
// then treats it as current; the newer file is never touched meanwhile, so a crash at any
// point leaves one complete synced image, and open() picks the newest valid one. The format
// is documented in strata/metadata/format.h.
//
// Delta writes: a file written whole keeps room after its entries for a log (a quarter of the
// image, at most 8 MiB, up to the next 4 KiB; zero bytes, format.h), and the store keeps the
// set of entries each file has not yet received (added or changed since that file was last
// written). A sync appends those entries, as they are now, to the file's log as one record
// (with the new version) written over the zeros, then the new version and the CRC (updated
// arithmetically, without reading or hashing the rest of the file), which end the file, in one
// write, and fdatasyncs once: two small writes (format 3; format 2 also rewrote the version in
// the header, a third page), wherever in the file the changed entries lie and whatever their
// new lengths. It is taken when the record fits in the room left and the pages it touches (the
// record's, the last one's) are no more than a whole rewrite would write; otherwise — after open,
// after a key is removed or the store cleared, when the record does not fit —
// the file is rewritten whole with an empty log and truncated to its new length. So a change
// reaches both files in two syncs, one per file, each a delta when the file takes them.
// MetadataStats counts both kinds and the pages written. The room costs a quarter more bytes
// per rewrite (and per open's read): a store whose every sync changes most of its bytes (one
// large value, say) is rewritten whole each time, room included.
// A sync with nothing changed since the last one does no I/O.
//
// Errors: after any failed write or sync the object refuses further put/remove/clear/sync
// (an fsync failure is not retryable); reopen to continue from the last synced state. The
// in-memory bookkeeping never claims a version that is not on disk. The file whose write or
// sync failed has its magic zeroed (best effort): its image may sit whole in the page cache
// without being on disk, and a reopen in the same boot must not serve it (open then reports a
// fallback: that image was lost).
//
// Creation: both files get a valid empty image of version 0, each written under a temporary
// name, synced and renamed into place, then the directory is synced. So an existing store
// never has an empty file and never lacks both.
//
// Open: validates both files (format.h), picks the highest valid version (tie: left) and
// reports what it passed over in open_report() (a fallback: the other file invalid, or
// missing/empty beside an image above version 0 — an image was lost), counting a recovery.
// No file at all: a new store. Neither file valid but at least one present (even empty):
// corruption naming both (or an empty store with recover_empty). A file
// from a newer format version: not_supported. A store written with another key type:
// invalid_argument. A second opener of the same directory, in this or another process: busy.
// Each file is read once, front to back, through a 256 KiB buffer (larger only for a larger
// value): its CRC is computed as it goes by and the newest image's entries are parsed at the
// same time, kept only if the CRC then matches. So open needs memory for the map only, not a
// copy of both files. The map's nodes come from a pool of the store's own (it grows with the
// map; erased nodes are reused, and the memory is released with the store). The image it serves is
// written again and fdatasynced first (its writer may have died before its own sync, or its sync
// failed and left pages that read back but are not on disk), unless the LOCK file's clean mark
// says the last process to close the store synced that very image (file, version, size and CRC).
// A file it passes over as damaged that a failed write could have left gets its magic zeroed and
// synced, so that a power cut cannot bring it back as a newer image. A clean open of two valid
// files does no write and no sync.
//
// Close (the destructor): no sync, and unsynced changes are dropped; a writable store that
// saw no I/O error writes the clean mark into LOCK (one small write, best effort, not
// synced: a lost or torn mark only costs the next open its sync). Restoring files by hand
// into a store's directory: sync them, or remove LOCK, before opening.
//
// Thread-safety: not safe for concurrent use; const methods may run concurrently with each
// other. Pointers returned by get() are valid until the next put/remove/clear of that key or
// the destruction of the store.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/core/file.h"
#include "strata/core/metrics.h"
#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/metadata/detail/metadata_core.h"
#include "strata/metadata/detail/node_pool.h"
#include "strata/metadata/format.h"
#include "strata/metadata/key_codec.h"
#include "strata/metadata/options.h"

namespace strata {

template <MetadataKey Key>
class Metadata {
 public:
  using key_type = Key;
  using Codec = MetadataKeyCodec<Key>;

  // Opens (or creates, see MetadataOptions::create_if_missing) the store in `dir`.
  static Result<Metadata> open(const std::string& dir, MetadataOptions options = {});

  // Removes the store in `dir` (its files, then the directory if nothing else is in it).
  // busy while the store is open; OK when there is no store.
  [[nodiscard]] static Status destroy(const std::string& dir,
                                      FileSystem& fs = FileSystem::posix()) {
    return detail::MetadataCore::destroy(dir, fs);
  }

  Metadata(Metadata&&) noexcept = default;
  Metadata& operator=(Metadata&&) noexcept = default;
  Metadata(const Metadata&) = delete;
  Metadata& operator=(const Metadata&) = delete;
  ~Metadata() = default;  // unsynced changes are dropped; writes LOCK's clean mark (see above)

  // The value of `key`, or nullptr.
  const std::string* get(const Key& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second.value;
  }
  bool contains(const Key& key) const { return map_.contains(key); }
  std::size_t size() const noexcept { return map_.size(); }
  bool empty() const noexcept { return map_.empty(); }
  // All keys, ascending.
  std::vector<Key> keys() const {
    std::vector<Key> out;
    out.reserve(map_.size());
    for (const auto& [k, e] : map_) out.push_back(k);
    return out;
  }
  // Calls fn(const Key&, std::string_view value) for every entry, ascending.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [k, e] : map_) fn(k, std::string_view(e.value));
  }

  // Sets `key` to `value` (applied, not durable until sync); returns the previous value.
  // Errors: invalid_argument for a value or key over the limits; the stored I/O error after a
  // failed sync.
  Result<std::optional<std::string>> put(const Key& key, std::string value);
  // Removes `key`; returns its value, nullopt when absent.
  Result<std::optional<std::string>> remove(const Key& key);
  // Removes every key.
  Status clear();
  // Makes the in-memory state durable and atomic (see the file comment). No I/O when nothing
  // changed. Errors: io_error (the store then refuses writes), aborted at version overflow.
  Status sync();
  // sync(), then the same state written to the other file as well (one version later), so
  // that both files hold it: the loss or damage of either file afterwards loses nothing. Two
  // fdatasyncs. No I/O when nothing changed since the last sync_both().
  Status sync_both() {
    const bool changed = dirty_;
    STRATA_RETURN_IF_ERROR(sync());
    if (!changed && both_current_) return Status();
    dirty_ = true;  // the other file lacks the state: write it there too
    STRATA_RETURN_IF_ERROR(sync());
    both_current_ = true;
    return Status();
  }
  // sync(), then a new store holding the same entries is written to `dir`, which must not
  // exist and must not be this store's directory or inside it (trailing slashes are ignored;
  // see checkpoint_paths in strata/core/file.h): both of its files hold the image (built
  // under `<dir>.checkpoint-tmp`, renamed into place, dir's parent synced), so `dir` exists
  // only complete and survives the loss of either file. Restoring is opening `dir`; the
  // copy's version restarts at 2. A read-only store copies the image its open read (no
  // sync). Errors: the sync's; invalid_argument (`dir` or the temporary exists, or `dir` is
  // inside the store); io_error.
  Status checkpoint(const std::string& target) {
    STRATA_ASSIGN_OR_RETURN(const CheckpointPaths paths,
                            checkpoint_paths(dir(), target, ".checkpoint-tmp"));
    if (!options_.read_only) STRATA_RETURN_IF_ERROR(sync());
    FileSystem& fs = core_.fs();
    for (const std::string& p : {paths.dest, paths.tmp}) {
      STRATA_ASSIGN_OR_RETURN(const bool taken, fs.exists(p));
      if (taken) return Status::invalid_argument("metadata checkpoint: " + p + " exists");
    }
    const auto build = [&]() -> Status {
      MetadataOptions o = options_;  // same limits
      o.fs = &fs;
      o.read_only = false;
      o.create_if_missing = true;
      o.recover_empty = false;
      STRATA_ASSIGN_OR_RETURN(Metadata copy, open(paths.tmp, o));
      for (const auto& [key, entry] : map_) {
        STRATA_RETURN_IF_ERROR(copy.put(key, entry.value).status());
      }
      return copy.sync_both();
    };  // the copy's LOCK is released before the rename
    if (Status s = build(); !s.ok()) {
      // Not removed: it is never taken for the checkpoint, and another checkpoint to the same
      // place may be writing it. Every later one to `target` refuses until it is removed.
      return s.with_context("metadata checkpoint (the partial copy is left in " + paths.tmp +
                            ": remove it before retrying)");
    }
    STRATA_RETURN_IF_ERROR(fs.rename(paths.tmp, paths.dest));
    return fs.sync_dir(parent_dir(paths.dest));
  }

  // put() then sync(); the previous value on success.
  Result<std::optional<std::string>> put_sync(const Key& key, std::string value) {
    STRATA_ASSIGN_OR_RETURN(std::optional<std::string> previous, put(key, std::move(value)));
    STRATA_RETURN_IF_ERROR(sync());
    return previous;
  }

  // The version of the newest synced image (0 for a new store).
  std::uint64_t version() const noexcept { return core_.version(); }
  // OK, or the I/O error after which the store refuses writes.
  const Status& error() const noexcept { return core_.error(); }
  const MetadataStats& stats() const noexcept { return core_.stats(); }
  // stats() and the open report as metrics (strata/core/metrics.h), named "metadata_*".
  metrics::Snapshot metrics() const {
    const MetadataStats& s = stats();
    metrics::Snapshot m;
    m.counter("metadata_syncs_total", "syncs that made a new version durable", double(s.syncs));
    m.counter("metadata_rewrites_total", "syncs that rewrote a whole file", double(s.rewrites));
    m.counter("metadata_overwrites_total",
              "syncs that wrote only a log record of the changes (deltas)", double(s.overwrites));
    m.counter("metadata_skipped_syncs_total", "syncs with nothing changed (no I/O)",
              double(s.skipped_syncs));
    m.counter("metadata_bytes_written_total", "bytes written by syncs", double(s.bytes_written));
    m.counter("metadata_pages_written_total", "4 KiB pages touched by syncs",
              double(s.pages_written));
    m.counter("metadata_recoveries_total", "invalid files found at open", double(s.recoveries));
    m.gauge("metadata_fallback", "1 when open passed over a file that lost an image",
            open_report().fallback ? 1.0 : 0.0);
    m.gauge("metadata_version", "version of the newest synced image", double(version()));
    m.gauge("metadata_entries", "entries held", double(size()));
    return m;
  }
  // What open() found in the two files and which one it took (see MetadataOpenReport).
  const MetadataOpenReport& open_report() const noexcept { return core_.open_report(); }
  const std::string& dir() const noexcept { return core_.dir(); }

 private:
  // 40 bytes beside the key with libstdc++ (a map node of a u64 key: 80 bytes).
  struct Entry {
    Entry() = default;
    explicit Entry(std::string_view v) : value(v) {}

    std::string value;
    // Whether file f lacks this value (then the entry is in pending_[f]). Meaningful only
    // while delta_ok(f): layout_changed() drops the lists, sync_full clears the flags.
    bool pending(std::size_t f) const noexcept { return (flags_ >> f) & 1U; }
    void set_pending(std::size_t f, bool on) noexcept {
      const auto bit = static_cast<std::uint8_t>(1U << f);
      flags_ = static_cast<std::uint8_t>(on ? flags_ | bit : flags_ & ~bit);
    }

   private:
    std::uint8_t flags_ = 0;  // bits 0, 1: pending(0), pending(1)
  };
  // Nodes from a pool (detail/node_pool.h): open builds the whole map in key order.
  using Map =
      std::map<Key, Entry, std::less<Key>, detail::PoolAllocator<std::pair<const Key, Entry>>>;

  // The unit in which a delta and a rewrite are compared (see the file comment).
  static constexpr std::uint64_t kPageBytes = 4096;
  // The log a rewrite leaves room for: a quarter of the image, at most this much.
  static constexpr std::uint64_t kMaxLogBytes = std::uint64_t{8} << 20;

  Metadata(detail::MetadataCore core, MetadataOptions options)
      : core_(std::move(core)), options_(options) {}

  // The state of the image `in` streams (positioned at its first byte): its entries with its
  // log's puts applied; `encoded` gets the bytes those take as entries (Σ key + length + value).
  static Result<Map> parse(detail::MetadataStream& in, const metadata_format::ImageHeader& header,
                           std::string_view path, std::size_t& encoded);
  Status check_writable() const { return core_.error(); }
  // The key set shrank (remove, clear): both files need a whole rewrite before they can take
  // deltas again (a log record only puts).
  void layout_changed() {
    ++layout_epoch_;
    for (auto& p : pending_) p.clear();
  }
  // The entry `it` was added or its value changed: every file that takes deltas and holds it
  // as it was now lacks it. (When most entries changed, the record will not fit in the log's
  // room and that file is rewritten whole.)
  void changed(typename Map::iterator it) {
    for (std::size_t f = 0; f < 2; ++f) {
      if (!delta_ok(static_cast<int>(f)) || it->second.pending(f)) continue;
      pending_[f].push_back(it);
      it->second.set_pending(f, true);
    }
  }
  bool delta_ok(int f) const { return file_epoch_[static_cast<std::size_t>(f)] == layout_epoch_; }
  // The length of the file a whole rewrite writes: the image, its log's first record, room
  // for more of a quarter of the image (at most kMaxLogBytes), the CRC, rounded up to pages.
  std::uint64_t rewrite_size() const {
    namespace mfmt = metadata_format;
    const std::uint64_t image = mfmt::kHeaderSize + encoded_bytes_;
    const std::uint64_t want =
        image + mfmt::kRecordHeaderSize + std::min(image / 4, kMaxLogBytes) + mfmt::kTailSize;
    return (want + kPageBytes - 1) / kPageBytes * kPageBytes;
  }
  // The length of the record a delta to file f writes, or 0 when it does not fit in the room
  // left in the file's log. Stops counting as soon as it cannot fit.
  std::uint64_t record_size(int f) const {
    namespace mfmt = metadata_format;
    const auto fi = static_cast<std::size_t>(f);
    // The log ends at the version before the CRC (a file that takes deltas is one this store
    // wrote whole: format 3).
    const std::uint64_t n = core_.slot(f).payload_size - mfmt::kTailVersionSize;
    const std::uint64_t room = log_end_[fi] <= n ? n - log_end_[fi] : 0;
    std::uint64_t size = mfmt::kRecordHeaderSize;
    for (const auto it : pending_[fi]) {
      size += Codec::encoded_size(it->first) + mfmt::kValueLengthSize + it->second.value.size();
      if (size > room) return 0;
    }
    return size <= room && size <= std::numeric_limits<std::uint32_t>::max() ? size : 0;
  }
  // Whether a delta of a `record`-byte record beats a rewrite of file f: it writes the
  // record's pages and the last one (the version and the CRC), at most as many pages as a
  // rewrite would.
  bool delta_pays(int f, std::uint64_t record) const {
    const std::uint64_t at = log_end_[static_cast<std::size_t>(f)];
    const std::uint64_t first = at / kPageBytes;
    const std::uint64_t last = (at + record - 1) / kPageBytes;
    const std::uint64_t tail_page =
        (core_.slot(f).payload_size - metadata_format::kTailVersionSize) / kPageBytes;
    std::uint64_t pages = last - first + 1;
    if (tail_page > last) ++pages;
    return pages <= rewrite_size() / kPageBytes;
  }
  Status sync_full(int t, std::uint64_t version);
  Status sync_delta(int t, std::uint64_t version, std::uint64_t record);

  detail::MetadataCore core_;
  MetadataOptions options_;
  Map map_;
  bool dirty_ = false;                         // the map differs from the newest synced image
  bool both_current_ = false;                  // both files hold the map (sync_both)
  std::uint64_t layout_epoch_ = 1;             // bumped by every remove and clear
  std::array<std::uint64_t, 2> file_epoch_{};  // layout each file holds; 0: not known
  // The entries with pending(f): added or changed since file f was last written.
  std::array<std::vector<typename Map::iterator>, 2> pending_;
  std::array<std::uint64_t, 2> log_end_{};  // where file f's next log record goes
  std::string scratch_;                     // reused encode buffer
  std::size_t encoded_bytes_ = 0;    // Σ encoded key + value length + value: the image's entries
  typename Map::iterator finger_{};  // the entry after the last put's, when has_finger_
  // Moves clear it in the source: its iterator would point into the map that took the nodes.
  struct Flag {
    bool on = false;
    Flag() = default;
    Flag(Flag&& o) noexcept : on(std::exchange(o.on, false)) {}
    Flag& operator=(Flag&& o) noexcept {
      on = std::exchange(o.on, false);
      return *this;
    }
    Flag& operator=(bool b) noexcept {
      on = b;
      return *this;
    }
    explicit operator bool() const noexcept { return on; }
  };
  Flag has_finger_;
};

// --- implementation ---------------------------------------------------------------------------

template <MetadataKey Key>
Result<Metadata<Key>> Metadata<Key>::open(const std::string& dir, MetadataOptions options) {
  namespace mfmt = metadata_format;
  std::array<detail::MetadataFileHead, 2> files;
  STRATA_ASSIGN_OR_RETURN(detail::MetadataCore core,
                          detail::MetadataCore::open(dir, options, files));
  std::array<Status, 2> checks;
  std::array<mfmt::ImageHeader, 2> headers{};
  // 1. What each file's length, header and trailer tell (length, magic).
  for (std::size_t i = 0; i < 2; ++i) {
    if (!files[i].damage.ok()) {
      checks[i] = files[i].damage;
      core.note_file(static_cast<int>(i), checks[i], 0, 0);
      continue;
    }
    if (files[i].empty()) {
      checks[i] = Status::corruption("empty");
      core.note_file(static_cast<int>(i), Status::not_found("empty or missing"), 0, 0);
      continue;
    }
    const std::string& path = core.slot(static_cast<int>(i)).file->path();
    Result<mfmt::ImageHeader> header = mfmt::check_head(
        files[i].head, files[i].size, files[i].trailer, files[i].tail_version, path);
    if (!header) {
      checks[i] = header.error();
      core.note_file(static_cast<int>(i), checks[i], 0, 0, &files[i]);
      continue;
    }
    headers[i] = *header;
  }
  // 2. Each file read once, front to back: its CRC, and the entries of the newest valid image
  // (by the version its header claims; tie: left). The other file is parsed only when the
  // newest turns out invalid or malformed; the older image is never served: the next sync
  // rewrites it whole. Entries are parsed as they stream by and kept only when the CRC then
  // matches; a file whose header fields do not match is only CRC-checked.
  std::optional<Map> map;
  std::size_t encoded = 0;  // of map
  std::array<std::size_t, 2> order{0, 1};
  if (checks[1].ok() && (!checks[0].ok() || headers[1].version > headers[0].version)) {
    order = {1, 0};
  }
  // The other file's CRC starts now, on a thread when it is large, while the newest is parsed.
  std::optional<detail::MetadataCrcTask> other_crc;
  if (checks[order[0]].ok() && checks[order[1]].ok() &&
      mfmt::fields_match(files[order[0]].head, Codec::kId)) {
    other_crc.emplace(*core.slot(static_cast<int>(order[1])).file, headers[order[1]].payload_size,
                      files[order[1]].head);
  }
  // A valid image of a newer format or another key type is a configuration error that must not
  // silently fall back to older data: open fails with it (the left file's first, as both files
  // are examined).
  std::array<Status, 2> fatal;
  for (std::size_t i : order) {
    if (!checks[i].ok()) continue;
    const int fi = static_cast<int>(i);
    const std::string& path = core.slot(fi).file->path();
    const bool load = !map && mfmt::fields_match(files[i].head, Codec::kId);
    std::optional<Result<Map>> parsed;
    std::size_t parsed_encoded = 0;
    std::optional<Result<std::uint32_t>> crc;
    if (!load && other_crc && i == order[1]) {
      crc.emplace(other_crc->get());
    } else {
      detail::MetadataStream in(*core.slot(fi).file, headers[i].payload_size, files[i].head);
      if (load) parsed.emplace(parse(in, headers[i], path, parsed_encoded));
      crc.emplace(in.finish());
    }
    // A read error fails open; a file that shrank or changed while read is passed over.
    Status s = crc->has_value()
                   ? mfmt::check_rest(files[i].head, headers[i], **crc, Codec::kId, path)
                   : crc->error();
    files[i].crc_valid = s.ok();
    if (s.ok() && parsed && !*parsed && !parsed->error().is_corruption()) {
      s = parsed->error();  // a read error while parsing
    }
    if (!s.ok()) {
      if (!s.is_corruption()) {
        if (!s.is_not_supported() && !s.is_invalid_argument()) return s;  // I/O
        fatal[i] = s;
      }
      checks[i] = std::move(s);
      core.note_file(fi, checks[i], 0, 0, &files[i]);
      continue;
    }
    if (!load) {  // the older file: CRC-checked, not parsed
      core.note_file(fi, Status(), headers[i].version, headers[i].entry_count);
      continue;
    }
    if (!*parsed) {
      checks[i] = parsed->error();
      core.note_file(fi, checks[i], 0, 0, &files[i]);
      continue;
    }
    core.note_file(fi, Status(), headers[i].version, (*parsed)->size());
    map = std::move(**parsed);
    encoded = parsed_encoded;
  }
  for (const Status& f : fatal) {
    if (!f.ok()) return f;
  }
  other_crc.reset();
  STRATA_ASSIGN_OR_RETURN(const int chosen,
                          core.choose(checks, headers, files, Codec::kId, options));
  Metadata md(std::move(core), options);
  if (chosen >= 0) {
    md.map_ = std::move(*map);
    md.encoded_bytes_ = encoded;
  }
  return md;
}

template <MetadataKey Key>
Result<typename Metadata<Key>::Map> Metadata<Key>::parse(detail::MetadataStream& in,
                                                         const metadata_format::ImageHeader& header,
                                                         std::string_view path,
                                                         std::size_t& encoded) {
  namespace mfmt = metadata_format;
  auto corrupt = [&](std::string_view what, std::uint64_t offset) {
    return Status::corruption(std::string(what) + " in " + std::string(path) + " at offset " +
                              std::to_string(offset));
  };
  const std::uint64_t end = header.payload_size;
  Map map;
  STRATA_ASSIGN_OR_RETURN(const std::string_view head, in.peek(mfmt::kHeaderSize));
  const std::uint16_t format = mfmt::format_version(head);
  in.consume(head.size());
  // One key, value length and value (an entry or a put), all before `limit`.
  Key key{};
  std::string_view value;
  std::uint64_t key_pos = 0;
  constexpr std::string_view kInEntry = "in an entry";
  auto read_one = [&](std::uint64_t limit, std::string_view where) -> Status {
    // The key: as many bytes as its codec needs, found by offering it more until it decodes
    // or the image ends.
    key_pos = in.position();
    std::size_t used = 0;
    for (std::size_t want = 16;; want *= 2) {
      STRATA_ASSIGN_OR_RETURN(const std::string_view bytes, in.peek(want));
      used = Codec::decode(bytes, key);
      if (used != 0 || bytes.size() < want) break;
    }
    if (used == 0 || limit - key_pos < used) {
      return corrupt("truncated or malformed key " + std::string(where), key_pos);
    }
    // A key the codec decoded from more or fewer bytes than it encodes to (a lax user codec):
    // the sizes kept for the next rewrite would not match what it writes.
    if (used != Codec::encoded_size(key)) {
      return corrupt("key not in its codec's encoding " + std::string(where), key_pos);
    }
    in.consume(used);
    STRATA_ASSIGN_OR_RETURN(const std::string_view len_bytes, in.peek(mfmt::kValueLengthSize));
    if (len_bytes.size() < mfmt::kValueLengthSize ||
        limit - in.position() < mfmt::kValueLengthSize) {
      return corrupt("truncated value length " + std::string(where), in.position());
    }
    const std::uint32_t len = decode_be<std::uint32_t>(len_bytes.data());
    in.consume(mfmt::kValueLengthSize);
    if (limit - in.position() < len) {
      return corrupt("value runs past " + std::string(where == kInEntry ? "the CRC" : "its record"),
                     in.position());
    }
    STRATA_ASSIGN_OR_RETURN(value, in.peek(len));
    return Status();
  };
  // read_one's common case without its reads and checks: the key, its value length and the
  // value all in the stream's buffer, well formed and before `limit`. Decodes the key from the
  // same windows read_one offers the codec (so a lax codec decodes the same key), and leaves
  // the stream as read_one does (at the value); false, with nothing consumed, otherwise.
  auto take_buffered = [&](std::uint64_t limit) -> bool {
    const std::string_view b = in.buffered();
    std::size_t used = 0;
    for (std::size_t want = 16; want <= b.size() && used == 0; want *= 2) {
      used = Codec::decode(b.substr(0, want), key);
    }
    if (used == 0 || used != Codec::encoded_size(key) || b.size() - used < mfmt::kValueLengthSize) {
      return false;
    }
    const std::uint32_t len = decode_be<std::uint32_t>(b.data() + used);
    const std::size_t whole = used + mfmt::kValueLengthSize + std::size_t{len};
    if (b.size() - used - mfmt::kValueLengthSize < len || limit - in.position() < whole) {
      return false;
    }
    key_pos = in.position();
    value = b.substr(used + mfmt::kValueLengthSize, len);
    in.consume(used + mfmt::kValueLengthSize);
    return true;
  };
  auto next = [&](std::uint64_t limit, std::string_view where) -> Status {
    return take_buffered(limit) ? Status() : read_one(limit, where);
  };
  // Where the entries and the log must end: format 3 keeps the version in the last 8 bytes.
  if (format >= 3 && end - in.position() < mfmt::kTailVersionSize) {
    return corrupt("no room for the version before the CRC", in.position());
  }
  const std::uint64_t log_end = format >= 3 ? end - mfmt::kTailVersionSize : end;
  for (std::uint32_t i = 0; i < header.entry_count; ++i) {
    STRATA_RETURN_IF_ERROR(next(log_end, kInEntry));
    if (!map.empty() && !(std::prev(map.end())->first < key)) {
      return corrupt("keys not strictly ascending", key_pos);
    }
    map.emplace_hint(map.end(), std::piecewise_construct, std::forward_as_tuple(std::move(key)),
                     std::forward_as_tuple(value));
    in.consume(value.size());
  }
  std::uint64_t bytes = in.position() - mfmt::kHeaderSize;
  if (format < 2) {
    if (in.position() != end) return corrupt("entries end before the CRC", in.position());
    encoded = static_cast<std::size_t>(bytes);
    return map;
  }
  // The log: records of puts, up to a record length of 0 or fewer than 4 bytes before its end.
  std::optional<std::uint64_t> first_version;
  std::optional<std::uint64_t> last_version;
  while (log_end - in.position() >= 4) {
    const std::uint64_t at = in.position();
    STRATA_ASSIGN_OR_RETURN(const std::string_view rh, in.peek(mfmt::kRecordHeaderSize));
    const std::uint32_t len = decode_be<std::uint32_t>(rh.data());
    if (len == 0) break;
    if (len < mfmt::kRecordHeaderSize || len > log_end - at) {
      return corrupt("log record length " + std::to_string(len) + " out of bounds", at);
    }
    const std::uint32_t count = decode_be<std::uint32_t>(rh.data() + 4);
    const std::uint64_t version = decode_be<std::uint64_t>(rh.data() + 8);
    if (last_version && version <= *last_version) {
      return corrupt("log record versions not increasing", at);
    }
    if (!first_version) first_version = version;
    last_version = version;
    in.consume(mfmt::kRecordHeaderSize);
    const std::uint64_t record_end = at + len;
    for (std::uint32_t i = 0; i < count; ++i) {
      STRATA_RETURN_IF_ERROR(next(record_end, "in a log record"));
      const std::uint64_t key_bytes = in.position() - key_pos - mfmt::kValueLengthSize;
      auto [it, added] = map.try_emplace(std::move(key));
      if (added) {
        bytes += key_bytes + mfmt::kValueLengthSize + value.size();
      } else {
        bytes = bytes - it->second.value.size() + value.size();
      }
      it->second.value.assign(value.data(), value.size());
      in.consume(value.size());
    }
    if (in.position() != record_end) return corrupt("log record ends before its length", at);
  }
  if (format >= 3) {
    // The version at N - 8 is the last record's, or the base version when there is none; the
    // first record's is the base version.
    if (header.version != last_version.value_or(header.base_version)) {
      return corrupt("version " + std::to_string(header.version) +
                         " is not the last log record's (" +
                         (last_version ? std::to_string(*last_version) : std::string("none")) +
                         "; base version " + std::to_string(header.base_version) + ")",
                     end - mfmt::kTailVersionSize);
    }
    if (first_version && *first_version != header.base_version) {
      return corrupt("base version " + std::to_string(header.base_version) +
                         " is not the first log record's (" + std::to_string(*first_version) + ")",
                     mfmt::kVersionOffset);
    }
  } else if (last_version && *last_version != header.version) {
    return corrupt("header version " + std::to_string(header.version) +
                       " is not the last log record's (" + std::to_string(*last_version) + ")",
                   mfmt::kVersionOffset);
  }
  encoded = static_cast<std::size_t>(bytes);
  return map;
}

template <MetadataKey Key>
Result<std::optional<std::string>> Metadata<Key>::put(const Key& key, std::string value) {
  STRATA_RETURN_IF_ERROR(check_writable());
  if (value.size() > options_.max_value_bytes) {
    return Status::invalid_argument("metadata put: value of " + std::to_string(value.size()) +
                                    " bytes exceeds max_value_bytes (" +
                                    std::to_string(options_.max_value_bytes) + ")");
  }
  if (Codec::encoded_size(key) > options_.max_key_bytes) {
    return Status::invalid_argument("metadata put: key exceeds max_key_bytes (" +
                                    std::to_string(options_.max_key_bytes) + ")");
  }
  // The entry: the one after the previous put's when that is it (a store rewritten in key
  // order finds each entry without a search), else a search, hinted the same way for keys
  // inserted in order.
  typename Map::iterator it;
  bool inserted = false;
  if (has_finger_ && finger_->first == key) {
    it = finger_;
  } else {
    const std::size_t before = map_.size();
    it = map_.try_emplace(has_finger_ ? finger_ : map_.end(), key);
    inserted = map_.size() != before;
  }
  finger_ = std::next(it);
  has_finger_ = finger_ != map_.end();  // never keeps end(): a moved map's end() is not ours
  Entry& e = it->second;
  if (inserted) {
    encoded_bytes_ += Codec::encoded_size(key) + metadata_format::kValueLengthSize + value.size();
    e.value = std::move(value);
    changed(it);
    dirty_ = true;
    return std::optional<std::string>();
  }
  if (e.value == value) return std::optional<std::string>(std::move(value));
  encoded_bytes_ = encoded_bytes_ - e.value.size() + value.size();
  changed(it);
  std::optional<std::string> previous(std::move(e.value));
  e.value = std::move(value);
  dirty_ = true;
  return previous;
}

template <MetadataKey Key>
Result<std::optional<std::string>> Metadata<Key>::remove(const Key& key) {
  STRATA_RETURN_IF_ERROR(check_writable());
  auto it = map_.find(key);
  if (it == map_.end()) return std::optional<std::string>();
  encoded_bytes_ -=
      Codec::encoded_size(key) + metadata_format::kValueLengthSize + it->second.value.size();
  std::optional<std::string> previous(std::move(it->second.value));
  layout_changed();  // drops every iterator to the entry before it goes away
  has_finger_ = false;
  map_.erase(it);
  dirty_ = true;
  return previous;
}

template <MetadataKey Key>
Status Metadata<Key>::clear() {
  STRATA_RETURN_IF_ERROR(check_writable());
  if (map_.empty()) return Status();
  layout_changed();
  map_.clear();
  has_finger_ = false;
  encoded_bytes_ = 0;
  dirty_ = true;
  return Status();
}

template <MetadataKey Key>
Status Metadata<Key>::sync() {
  STRATA_RETURN_IF_ERROR(check_writable());
  if (!dirty_) {
    ++core_.stats().skipped_syncs;
    return Status();
  }
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t version, core_.next_version());
  const int t = core_.target();
  Status s;
  const std::uint64_t record = delta_ok(t) && core_.slot(t).valid ? record_size(t) : 0;
  if (record != 0 && delta_pays(t, record)) {
    s = sync_delta(t, version, record);
  } else {
    s = sync_full(t, version);
  }
  if (!s.ok()) return s;
  dirty_ = false;
  both_current_ = false;
  return Status();
}

template <MetadataKey Key>
Status Metadata<Key>::sync_full(int t, std::uint64_t version) {
  namespace mfmt = metadata_format;
  const auto ti = static_cast<std::size_t>(t);
  if (map_.size() > std::numeric_limits<std::uint32_t>::max()) {
    return Status::invalid_argument("metadata sync: more than 2^32-1 entries");
  }
  const std::uint64_t size = rewrite_size();
  if (size > mfmt::kMaxFileSize) {  // open would not read it: refuse before writing a byte
    return Status::invalid_argument("metadata sync: the image would take " + std::to_string(size) +
                                    " bytes, more than the " + std::to_string(mfmt::kMaxFileSize) +
                                    " a file may hold");
  }
  const auto total = static_cast<std::size_t>(size);
  scratch_.resize(total);
  char* const base = scratch_.data();
  mfmt::encode_header(base, Codec::kId, version, static_cast<std::uint32_t>(map_.size()));
  char* p = base + mfmt::kHeaderSize;
  for (auto& [k, e] : map_) {
    p = Codec::encode(k, p);
    encode_be(static_cast<std::uint32_t>(e.value.size()), p);
    p += mfmt::kValueLengthSize;
    e.set_pending(ti, false);
    if (!e.value.empty()) std::memcpy(p, e.value.data(), e.value.size());
    p += e.value.size();
  }
  const auto image = static_cast<std::size_t>(p - base);
  assert(image == mfmt::kHeaderSize + encoded_bytes_);
  // The log: a first record with no puts and this version, then zeros up to the version before
  // the CRC.
  const std::size_t payload = total - mfmt::kCrcSize;
  std::memset(p, 0, payload - image);
  encode_be(static_cast<std::uint32_t>(mfmt::kRecordHeaderSize), p);
  encode_be(version, p + 8);
  encode_be(version, base + payload - mfmt::kTailVersionSize);
  const std::uint32_t crc = crc32c(std::string_view(base, payload));
  encode_be(crc, base + payload);
  STRATA_RETURN_IF_ERROR(core_.write_full(std::string_view(base, total), version, crc));
  file_epoch_[ti] = layout_epoch_;
  pending_[ti].clear();
  log_end_[ti] = image + mfmt::kRecordHeaderSize;
  return Status();
}

template <MetadataKey Key>
Status Metadata<Key>::sync_delta(int t, std::uint64_t version, std::uint64_t record) {
  namespace mfmt = metadata_format;
  const auto ti = static_cast<std::size_t>(t);
  const detail::MetadataSlot& slot = core_.slot(t);
  const std::uint64_t n = slot.payload_size;
  const std::uint64_t at = log_end_[ti];
  auto& pending = pending_[ti];

  // The record: its length, the put count, the version, then each added or changed entry as
  // it is now.
  scratch_.resize(static_cast<std::size_t>(record));
  char* p = scratch_.data();
  encode_be(static_cast<std::uint32_t>(record), p);
  encode_be(static_cast<std::uint32_t>(pending.size()), p + 4);
  encode_be(version, p + 8);
  p += mfmt::kRecordHeaderSize;
  for (const auto it : pending) {
    p = Codec::encode(it->first, p);
    encode_be(static_cast<std::uint32_t>(it->second.value.size()), p);
    p += mfmt::kValueLengthSize;
    if (!it->second.value.empty()) std::memcpy(p, it->second.value.data(), it->second.value.size());
    p += it->second.value.size();
  }
  assert(static_cast<std::uint64_t>(p - scratch_.data()) == record);

  // The new CRC from the old one (format.h): the version before it (its last 8 bytes), and
  // the record written over zeros (the difference is the record itself).
  std::uint32_t crc = slot.crc;
  {
    const auto old_v = encode_be(slot.version);
    const auto new_v = encode_be(version);
    crc ^= mfmt::crc32c_linear(std::string_view(old_v.data(), 8)) ^
           mfmt::crc32c_linear(std::string_view(new_v.data(), 8));
  }
  crc ^= mfmt::crc32c_shift(mfmt::crc32c_linear(scratch_), n - at - record);

  const detail::MetadataRegion region{at, scratch_};
  STRATA_RETURN_IF_ERROR(core_.write_delta(std::span(&region, 1), version, crc));
  log_end_[ti] = at + record;
  for (const auto it : pending) it->second.set_pending(ti, false);
  pending.clear();
  return Status();
}

}  // namespace strata
