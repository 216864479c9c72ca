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
// Delta writes: each file keeps the set of entries it has not yet received. When a file's
// layout (the key set and every value length) equals the in-memory one, a sync writes only
// those values, the version and the CRC (updated arithmetically, without reading or hashing
// the rest of the file), then one fdatasync — provided the delta touches fewer 4 KiB pages of
// the file than a whole rewrite would (the version's page, the CRC's page and those of the
// changed values, against the pages of the whole image), or as many pages but at most 64
// changed entries (each costs a CRC shift, ~1 µs); otherwise the file is rewritten whole. So
// a small store (one page) takes deltas too. MetadataStats counts both kinds and the pages
// written. Otherwise — after open, after a key is added or
// removed, after a value changes length — that file is rewritten whole and truncated to its
// new length; so after such a change the next two syncs are rewrites, one per file.
// A sync with nothing changed since the last one does no I/O.
//
// Errors: after any failed write or sync the object refuses further put/remove/clear/sync
// (an fsync failure is not retryable); reopen to continue from the last synced state. The
// in-memory bookkeeping never claims a version that is not on disk.
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
// copy of both files.
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
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/core/file.h"
#include "strata/core/metrics.h"
#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/metadata/detail/metadata_core.h"
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
  ~Metadata() = default;  // no I/O: unsynced changes are dropped

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
  // exist: both of its files hold the image (built under `<dir>.checkpoint-tmp`, renamed
  // into place, dir's parent synced), so `dir` exists only complete and survives the loss of
  // either file. Restoring is opening `dir`; the copy's version restarts at 2. Errors: the
  // sync's; invalid_argument (`dir` or the temporary exists); io_error.
  Status checkpoint(const std::string& dir) {
    STRATA_RETURN_IF_ERROR(sync());
    FileSystem& fs = core_.fs();
    const std::string tmp = dir + ".checkpoint-tmp";
    for (const std::string& p : {dir, tmp}) {
      STRATA_ASSIGN_OR_RETURN(const bool taken, fs.exists(p));
      if (taken) return Status::invalid_argument("metadata checkpoint: " + p + " exists");
    }
    {
      MetadataOptions o = options_;  // same limits
      o.fs = &fs;
      o.read_only = false;
      o.create_if_missing = true;
      o.recover_empty = false;
      STRATA_ASSIGN_OR_RETURN(Metadata copy, open(tmp, o));
      for (const auto& [key, entry] : map_) {
        STRATA_RETURN_IF_ERROR(copy.put(key, entry.value).status());
      }
      STRATA_RETURN_IF_ERROR(copy.sync_both());
    }  // the copy's LOCK is released before the rename
    STRATA_RETURN_IF_ERROR(fs.rename(tmp, dir));
    return fs.sync_dir(parent_dir(dir));
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
    m.counter("metadata_overwrites_total", "syncs that wrote only the changed values (deltas)",
              double(s.overwrites));
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
  // 40 bytes beside the key with libstdc++ (a map node of a u64 key: 80 bytes, was 96).
  struct Entry {
    std::string value;
    // Where `value` starts in a file whose layout is the current one (see layout_epoch_).
    std::uint64_t offset() const noexcept { return where_ & kOffsetMask; }
    void set_offset(std::uint64_t o) noexcept { where_ = (where_ & ~kOffsetMask) | o; }
    // Whether file f holds an older value of the same length (its CRC is in pending_[f]).
    bool pending(std::size_t f) const noexcept { return (where_ >> (kPendingBit + f)) & 1U; }
    void set_pending(std::size_t f, bool on) noexcept {
      const std::uint64_t bit = std::uint64_t{1} << (kPendingBit + f);
      where_ = on ? where_ | bit : where_ & ~bit;
    }

   private:
    static constexpr unsigned kPendingBit = 62;  // bits 62, 63: pending(0), pending(1)
    static constexpr std::uint64_t kOffsetMask = (std::uint64_t{1} << kPendingBit) - 1;
    std::uint64_t where_ = 0;
  };
  using Map = std::map<Key, Entry>;
  // An entry a file lacks, and the linear CRC of the value that file holds instead.
  struct Pending {
    typename Map::iterator it;
    std::uint32_t disk_crc = 0;
  };

  // The unit in which a delta and a rewrite are compared (see the file comment).
  static constexpr std::uint64_t kPageBytes = 4096;
  // At equal pages, a delta is taken for at most this many changed entries.
  static constexpr std::size_t kMaxTieEntries = 64;
  // Changed values closer than this are written with the bytes between them in one write.
  static constexpr std::uint64_t kMergeGap = 512;

  Metadata(detail::MetadataCore core, MetadataOptions options)
      : core_(std::move(core)), options_(options) {}

  // The entries of the image `in` streams (positioned at its first entry).
  static Result<Map> parse(detail::MetadataStream& in, const metadata_format::ImageHeader& header,
                           std::string_view path);
  Status check_writable() const { return core_.error(); }
  // The layout of the in-memory map changed (key set or a value length): both files need a
  // whole rewrite before they can take deltas again.
  void layout_changed() {
    ++layout_epoch_;
    for (auto& p : pending_) p.clear();
  }
  bool delta_ok(int f) const { return file_epoch_[static_cast<std::size_t>(f)] == layout_epoch_; }
  // Pages of file f a whole rewrite writes (its layout is the current one).
  std::uint64_t full_pages(int f) const {
    const std::uint64_t size = core_.slot(f).payload_size + metadata_format::kCrcSize;
    return (size + kPageBytes - 1) / kPageBytes;
  }
  // Whether a delta beats a rewrite of file f: fewer pages, or as many pages but few enough
  // changed entries that their CRC shifts (~1 µs each) stay cheap. The pages a delta writes —
  // the version's, the CRC's, the changed values' — are counted in one pass over the changed
  // entries, which stops as soon as the delta can no longer pay (when most entries changed,
  // after a few hundred of them).
  bool delta_pays(int f) {
    const auto fi = static_cast<std::size_t>(f);
    const std::uint64_t full = full_pages(f);
    const std::uint64_t limit = pending_[fi].size() <= kMaxTieEntries ? full : full - 1;
    std::vector<bool>& seen = page_seen_;  // reused: no allocation per sync
    seen.assign(full, false);
    std::uint64_t pages = 0;
    auto mark = [&](std::uint64_t p) {
      if (p < full && !seen[p]) {
        seen[p] = true;
        ++pages;
      }
    };
    mark(metadata_format::kVersionOffset / kPageBytes);
    mark(core_.slot(f).payload_size / kPageBytes);
    for (const Pending& changed : pending_[fi]) {
      const std::uint64_t begin = changed.it->second.offset();
      const std::uint64_t end = begin + std::max<std::uint64_t>(changed.it->second.value.size(), 1);
      for (std::uint64_t p = begin / kPageBytes; p <= (end - 1) / kPageBytes; ++p) mark(p);
      if (pages > limit) return false;
    }
    return pages <= limit;
  }
  Status sync_full(int t, std::uint64_t version);
  Status sync_delta(int t, std::uint64_t version);

  detail::MetadataCore core_;
  MetadataOptions options_;
  Map map_;
  bool dirty_ = false;                           // the map differs from the newest synced image
  bool both_current_ = false;                    // both files hold the map (sync_both)
  std::uint64_t layout_epoch_ = 1;               // bumped by every layout change
  std::array<std::uint64_t, 2> file_epoch_{};    // layout each file holds; 0: not known
  std::array<std::vector<Pending>, 2> pending_;  // the entries with pending(f)
  std::string scratch_;                          // reused encode buffer
  std::vector<bool> page_seen_;                  // reused by delta_pays
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
    if (files[i].empty()) {
      checks[i] = Status::corruption("empty");
      core.note_file(static_cast<int>(i), Status::not_found("empty or missing"), 0, 0);
      continue;
    }
    const std::string& path = core.slot(static_cast<int>(i)).file->path();
    Result<mfmt::ImageHeader> header =
        mfmt::check_head(files[i].head, files[i].size, files[i].trailer, path);
    if (!header) {
      checks[i] = header.error();
      core.note_file(static_cast<int>(i), checks[i], 0, 0, files[i].head);
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
    std::optional<Result<std::uint32_t>> crc;
    if (!load && other_crc && i == order[1]) {
      crc.emplace(other_crc->get());
    } else {
      detail::MetadataStream in(*core.slot(fi).file, headers[i].payload_size, files[i].head);
      if (load) parsed.emplace(parse(in, headers[i], path));
      crc.emplace(in.finish());
    }
    // A read error fails open; a file that shrank or changed while read is passed over.
    Status s = crc->has_value()
                   ? mfmt::check_rest(files[i].head, headers[i], **crc, Codec::kId, path)
                   : crc->error();
    if (s.ok() && parsed && !*parsed && !parsed->error().is_corruption()) {
      s = parsed->error();  // a read error while parsing
    }
    if (!s.ok()) {
      if (!s.is_corruption()) {
        if (!s.is_not_supported() && !s.is_invalid_argument()) return s;  // I/O
        fatal[i] = s;
      }
      checks[i] = std::move(s);
      core.note_file(fi, checks[i], 0, 0, files[i].head);
      continue;
    }
    if (!load) {  // the older file: CRC-checked, not parsed
      core.note_file(fi, Status(), headers[i].version, headers[i].entry_count);
      continue;
    }
    if (!*parsed) {
      checks[i] = parsed->error();
      core.note_file(fi, checks[i], 0, 0, files[i].head);
      continue;
    }
    core.note_file(fi, Status(), headers[i].version, (*parsed)->size());
    map = std::move(**parsed);
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
    md.encoded_bytes_ = static_cast<std::size_t>(
        headers[static_cast<std::size_t>(chosen)].payload_size - mfmt::kHeaderSize);
  }
  return md;
}

template <MetadataKey Key>
Result<typename Metadata<Key>::Map> Metadata<Key>::parse(detail::MetadataStream& in,
                                                         const metadata_format::ImageHeader& header,
                                                         std::string_view path) {
  namespace mfmt = metadata_format;
  auto corrupt = [&](std::string_view what, std::uint64_t offset) {
    return Status::corruption(std::string(what) + " in " + std::string(path) + " at offset " +
                              std::to_string(offset));
  };
  const std::uint64_t end = header.payload_size;
  Map map;
  STRATA_ASSIGN_OR_RETURN(const std::string_view head, in.peek(mfmt::kHeaderSize));
  in.consume(head.size());
  for (std::uint32_t i = 0; i < header.entry_count; ++i) {
    // The key: as many bytes as its codec needs, found by offering it more until it decodes
    // or the image ends.
    Key key{};
    const std::uint64_t key_pos = in.position();
    std::size_t used = 0;
    for (std::size_t want = 16;; want *= 2) {
      STRATA_ASSIGN_OR_RETURN(const std::string_view bytes, in.peek(want));
      used = Codec::decode(bytes, key);
      if (used != 0 || bytes.size() < want) break;
    }
    if (used == 0) return corrupt("truncated or malformed key", key_pos);
    in.consume(used);
    STRATA_ASSIGN_OR_RETURN(const std::string_view len_bytes, in.peek(mfmt::kValueLengthSize));
    if (len_bytes.size() < mfmt::kValueLengthSize) {
      return corrupt("truncated value length", in.position());
    }
    const std::uint32_t len = decode_be<std::uint32_t>(len_bytes.data());
    in.consume(mfmt::kValueLengthSize);
    if (end - in.position() < len) return corrupt("value runs past the CRC", in.position());
    if (!map.empty() && !(std::prev(map.end())->first < key)) {
      return corrupt("keys not strictly ascending", key_pos);
    }
    STRATA_ASSIGN_OR_RETURN(const std::string_view value, in.peek(len));
    Entry e;
    e.value.assign(value.data(), value.size());
    in.consume(len);
    map.emplace_hint(map.end(), std::move(key), std::move(e));
  }
  if (in.position() != end) return corrupt("entries end before the CRC", in.position());
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
    layout_changed();
    dirty_ = true;
    return std::optional<std::string>();
  }
  if (e.value == value) return std::optional<std::string>(std::move(value));
  if (e.value.size() != value.size()) {
    encoded_bytes_ = encoded_bytes_ - e.value.size() + value.size();
    layout_changed();
  } else {
    // Same layout: every file that takes deltas and holds the current value now lacks the
    // new one; remember the CRC of what it holds.
    std::optional<std::uint32_t> old_crc;
    for (int f = 0; f < 2; ++f) {
      const auto fi = static_cast<std::size_t>(f);
      if (!delta_ok(f) || e.pending(fi)) continue;
      if (pending_[fi].size() >= map_.size()) {
        // Every entry changed: that file gets rewritten whole; stop tracking.
        file_epoch_[fi] = 0;
        pending_[fi].clear();
        continue;
      }
      if (!old_crc) old_crc = metadata_format::crc32c_linear(e.value);
      pending_[fi].push_back(Pending{it, *old_crc});
      e.set_pending(fi, true);
    }
  }
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
  if (delta_ok(t) && core_.slot(t).valid && delta_pays(t)) {
    s = sync_delta(t, version);
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
  const std::size_t total = mfmt::kHeaderSize + encoded_bytes_ + mfmt::kCrcSize;
  scratch_.resize(total);
  char* const base = scratch_.data();
  mfmt::encode_header(base, Codec::kId, version, static_cast<std::uint32_t>(map_.size()));
  char* p = base + mfmt::kHeaderSize;
  for (auto& [k, e] : map_) {
    p = Codec::encode(k, p);
    encode_be(static_cast<std::uint32_t>(e.value.size()), p);
    p += mfmt::kValueLengthSize;
    e.set_offset(static_cast<std::uint64_t>(p - base));
    e.set_pending(ti, false);
    if (!e.value.empty()) std::memcpy(p, e.value.data(), e.value.size());
    p += e.value.size();
  }
  const auto payload = static_cast<std::size_t>(p - base);
  assert(payload + mfmt::kCrcSize == total);
  const std::uint32_t crc = crc32c(std::string_view(base, payload));
  encode_be(crc, p);
  STRATA_RETURN_IF_ERROR(core_.write_full(std::string_view(base, total), version, crc));
  file_epoch_[ti] = layout_epoch_;
  pending_[ti].clear();
  return Status();
}

template <MetadataKey Key>
Status Metadata<Key>::sync_delta(int t, std::uint64_t version) {
  namespace mfmt = metadata_format;
  const auto ti = static_cast<std::size_t>(t);
  const detail::MetadataSlot& slot = core_.slot(t);
  const std::uint64_t n = slot.payload_size;
  auto& pending = pending_[ti];
  std::sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
    return a.it->second.offset() < b.it->second.offset();
  });

  // The new CRC from the old one: the version field and each changed value (format.h).
  std::uint32_t crc = slot.crc;
  {
    const auto old_v = encode_be(slot.version);
    const auto new_v = encode_be(version);
    const std::uint32_t diff = mfmt::crc32c_linear(std::string_view(old_v.data(), 8)) ^
                               mfmt::crc32c_linear(std::string_view(new_v.data(), 8));
    crc ^= mfmt::crc32c_shift(diff, n - mfmt::kVersionOffset - 8);
  }
  for (const Pending& p : pending) {
    const Entry& e = p.it->second;
    const std::uint32_t diff = p.disk_crc ^ mfmt::crc32c_linear(e.value);
    crc ^= mfmt::crc32c_shift(diff, n - e.offset() - e.value.size());
  }

  // The bytes to write: runs of changed values, merged with what lies between them when the
  // gap is small (those bytes are unchanged, encoded again from memory).
  struct Run {
    std::uint64_t offset;
    std::size_t begin, end;  // in scratch_
  };
  std::vector<Run> runs;
  scratch_.clear();
  for (std::size_t i = 0; i < pending.size();) {
    auto first = pending[i].it;
    const Run run_start{first->second.offset(), scratch_.size(), 0};
    scratch_.append(first->second.value);
    std::uint64_t end = first->second.offset() + first->second.value.size();
    auto last = first;
    ++i;
    while (i < pending.size() && pending[i].it->second.offset() - end <= kMergeGap) {
      // Append every entry after `last` up to and including pending[i], whole.
      for (auto it = std::next(last); it != std::next(pending[i].it); ++it) {
        const std::size_t at = scratch_.size();
        scratch_.resize(at + Codec::encoded_size(it->first) + mfmt::kValueLengthSize);
        char* q = Codec::encode(it->first, scratch_.data() + at);
        encode_be(static_cast<std::uint32_t>(it->second.value.size()), q);
        scratch_.append(it->second.value);
      }
      last = pending[i].it;
      end = last->second.offset() + last->second.value.size();
      ++i;
    }
    Run r = run_start;
    r.end = scratch_.size();
    runs.push_back(r);
  }
  std::vector<detail::MetadataRegion> regions;
  regions.reserve(runs.size());
  for (const Run& r : runs) {
    regions.push_back({r.offset, std::string_view(scratch_).substr(r.begin, r.end - r.begin)});
  }
  STRATA_RETURN_IF_ERROR(core_.write_delta(regions, version, crc));
  for (const Pending& p : pending) p.it->second.set_pending(ti, false);
  pending.clear();
  return Status();
}

}  // namespace strata
