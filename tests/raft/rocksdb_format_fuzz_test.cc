// Mutation fuzzing of the RocksDB raft backend's stored keys and values (layout:
// strata/raft/rocksdb/rocksdb_log_store.h): RocksDbFormatFuzz, plus the damage it found that
// was served before RocksDbLogStore checked it (RocksDbFormatDamage, one per behaviour, at the
// end).
//
// RocksDbFormatFuzz — a raft database is built through strata (entries of several terms, part
// flushed to an SST and part only in the WAL, a replace that leaves a range tombstone, a purge,
// a hard state with a vote and a commit index), closed, and copied for each iteration. The copy
// is opened with raw RocksDB (rocksdb::DB, the same column families) and one logical mutation
// is applied to one stored key or value: a bit flip, a random byte, a truncation, an extension,
// a deleted key, an entry's term set to a boundary value, a bogus key inserted in raft_log (an
// index key outside or inside the log, with a copied or random value; a key of another size)
// or in raft_meta, two values swapped, a value copied over another key, an entry moved to
// another index, a field of the purge boundary or of the hard state changed. Then
// open_rocksdb_engine + StorageEngine::check_hard_state (the cross-check the header invites
// every non-file engine to run after opening) and every read: first/last index, term(i) and
// entry(i) around and inside the log, entries() whole and with a byte budget, meta().load().
//
// These mutations go through RocksDB's API, so RocksDB's own block and WAL checksums do not
// see them: only what the layout itself states can be checked. A model (`model` below)
// decides what a correct backend may serve from the mutated database: it is *well-formed*
// when it is a state strata itself could have written (8-byte index keys contiguous from the
// boundary, values of >= 8 bytes, terms non-decreasing from the boundary's, canonical boundary
// and hard state, a hard state when the log was ever used, commit <= last index).
// The test proves:
//   - no crash and no UB (run it under ASan and UBSan);
//   - a well-formed database opens and every call serves exactly the model's view of it
//     (a changed payload, a term that keeps the order, another hard state term or vote, a
//     lower commit, one more entry after the last — nothing without a checksum can tell those
//     from data; they are counted as rewrites);
//   - a malformed database is refused (every refusal and read error so far: corruption) or
//     served with every call answering exactly what was written, a non-OK Status, or a
//     faithful read of a rewritten value that breaks no rule where it is — never anything
//     else (served damage fails the test). open() refuses a key past a gap after the last
//     entry, a last entry whose term is below its predecessor's and a boundary term above the
//     first entry's; entries() refuses terms out of order. One limit is let through and
//     counted (rocksdb_log_store.h documents it): term(i) and entry(i) of an entry in the
//     middle read that entry alone, and serve its stored term even when it breaks the order;
//   - a well-formed database that opened takes an append and a sync and reopens with it.
// STRATA_FUZZ_ITERATIONS=N runs N mutations (default 300, about 3 to 15 s); each iteration's
// seed and mutation are named on failure; STRATA_FUZZ_VERBOSE=1 lists every malformed
// database served with a changed answer (rewrite or the single-read limit) with its seed.
// Only the engine-level check makes a deleted hard_state key, or a commit index past the last
// entry, a refusal: open_rocksdb_engine() alone does not run check_hard_state(); without it
// seed 31067 (hard_state deleted) loads "no hard state" and seeds 31035 and 31041 a commit
// past the log, and a deleted last entry (below that commit) would open as a shorter log.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "strata/core/bytes.h"
#include "strata/raft/format.h"
#include "strata/raft/rocksdb/rocksdb_log_store.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/fuzz.h"
#include "strata/testing/temp_dir.h"

namespace {

namespace fs = std::filesystem;
namespace fmt = strata::raft::format;
using strata::Status;
using strata::raft::HardState;
using strata::raft::kMaxLogIndex;
using strata::raft::LogEntry;
using strata::raft::StorageEngine;
using strata::testing::TempDir;

constexpr const char* kLogCf = "raft_log";
constexpr const char* kMetaCf = "raft_meta";

std::string index_key(std::uint64_t index) {
  const auto k = strata::encode_be(index);
  return std::string(k.data(), k.size());
}
std::string entry_value(std::uint64_t term, const std::string& payload) {
  const auto t = strata::encode_be(term);
  return std::string(t.data(), t.size()) + payload;
}

// RocksDB's file system without its syncs: the fuzzer checks what is read back, not what
// survives a power cut (LogStoreCrashSuite and tests/rocksdb do), and about twenty syncs per
// open made a default run take 10 to 45 s with the disk shared (see fuzz_options()). Used for every
// open in the fuzz loop, raw and strata's (RocksDbOptions::tune_db; strata wraps it in its own
// Env).
class NoSyncWritableFile final : public ::rocksdb::FSWritableFileOwnerWrapper {
 public:
  using ::rocksdb::FSWritableFileOwnerWrapper::FSWritableFileOwnerWrapper;
  ::rocksdb::IOStatus Sync(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
    return ::rocksdb::IOStatus::OK();
  }
  ::rocksdb::IOStatus Fsync(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
    return ::rocksdb::IOStatus::OK();
  }
};
class NoSyncDirectory final : public ::rocksdb::FSDirectoryWrapper {
 public:
  using ::rocksdb::FSDirectoryWrapper::FSDirectoryWrapper;
  ::rocksdb::IOStatus Fsync(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
    return ::rocksdb::IOStatus::OK();
  }
  ::rocksdb::IOStatus FsyncWithDirOptions(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*,
                                          const ::rocksdb::DirFsyncOptions&) override {
    return ::rocksdb::IOStatus::OK();
  }
};
class NoSyncFileSystem final : public ::rocksdb::FileSystemWrapper {
 public:
  using ::rocksdb::FileSystemWrapper::FileSystemWrapper;
  static const char* kClassName() { return "StrataTestNoSyncFileSystem"; }
  const char* Name() const override { return kClassName(); }
  ::rocksdb::IOStatus NewWritableFile(const std::string& f, const ::rocksdb::FileOptions& o,
                                      std::unique_ptr<::rocksdb::FSWritableFile>* r,
                                      ::rocksdb::IODebugContext* dbg) override {
    return wrap(target()->NewWritableFile(f, o, r, dbg), r);
  }
  ::rocksdb::IOStatus ReopenWritableFile(const std::string& f, const ::rocksdb::FileOptions& o,
                                         std::unique_ptr<::rocksdb::FSWritableFile>* r,
                                         ::rocksdb::IODebugContext* dbg) override {
    return wrap(target()->ReopenWritableFile(f, o, r, dbg), r);
  }
  ::rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                        const ::rocksdb::FileOptions& o,
                                        std::unique_ptr<::rocksdb::FSWritableFile>* r,
                                        ::rocksdb::IODebugContext* dbg) override {
    return wrap(target()->ReuseWritableFile(f, old, o, r, dbg), r);
  }
  ::rocksdb::IOStatus NewDirectory(const std::string& name, const ::rocksdb::IOOptions& o,
                                   std::unique_ptr<::rocksdb::FSDirectory>* r,
                                   ::rocksdb::IODebugContext* dbg) override {
    ::rocksdb::IOStatus s = target()->NewDirectory(name, o, r, dbg);
    if (s.ok()) *r = std::make_unique<NoSyncDirectory>(std::move(*r));
    return s;
  }

 private:
  static ::rocksdb::IOStatus wrap(::rocksdb::IOStatus s,
                                  std::unique_ptr<::rocksdb::FSWritableFile>* r) {
    if (s.ok()) *r = std::make_unique<NoSyncWritableFile>(std::move(*r));
    return s;
  }
};
::rocksdb::Env* no_sync_env() {
  static ::rocksdb::Env* const env =
      ::rocksdb::NewCompositeEnv(
          std::make_shared<NoSyncFileSystem>(::rocksdb::FileSystem::Default()))
          .release();
  return env;
}
strata::RocksDbOptions fuzz_options() {
  strata::RocksDbOptions o = strata::raft::raft_rocksdb_options();
  o.tune_db = [](::rocksdb::DBOptions& db) {
    db.env = no_sync_env();
    db.max_file_opening_threads = 1;  // not 16 threads started and joined at every open
  };
  return o;
}

// Every key and value of both column families.
struct Content {
  std::map<std::string, std::string> log;
  std::map<std::string, std::string> meta;
  friend bool operator==(const Content&, const Content&) = default;
};

// The database opened with plain RocksDB: every column family on disk, RocksDB's default
// options (`fast`: without syncs, as in the fuzz loop).
class RawDb {
 public:
  explicit RawDb(const std::string& path, bool fast = false) {
    ::rocksdb::DBOptions db_options;
    if (fast) {
      db_options.env = no_sync_env();
      db_options.max_file_opening_threads = 1;
    }
    std::vector<std::string> names;
    check(::rocksdb::DB::ListColumnFamilies(db_options, path, &names), "list column families");
    std::vector<::rocksdb::ColumnFamilyDescriptor> descriptors;
    ::rocksdb::ColumnFamilyOptions cf_options;
    cf_options.compression = ::rocksdb::kNoCompression;
    for (const std::string& n : names) descriptors.emplace_back(n, cf_options);
    std::vector<::rocksdb::ColumnFamilyHandle*> handles;
    ::rocksdb::DB* db = nullptr;
    check(::rocksdb::DB::Open(db_options, path, descriptors, &handles, &db), "open");
    db_.reset(db);
    for (std::size_t i = 0; i < names.size(); ++i) handles_[names[i]] = handles[i];
    ok_ = ok_ && handles_.count(kLogCf) == 1 && handles_.count(kMetaCf) == 1;
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() {
    if (!db_) return;
    for (auto& [name, h] : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  Content read() const {
    Content c;
    scan(kLogCf, c.log);
    scan(kMetaCf, c.meta);
    return c;
  }
  // Writes what differs between `from` and `to` (deletes and puts) in one batch.
  bool write_diff(const Content& from, const Content& to) {
    ::rocksdb::WriteBatch batch;
    diff(batch, kLogCf, from.log, to.log);
    diff(batch, kMetaCf, from.meta, to.meta);
    ::rocksdb::WriteOptions wo;
    wo.sync = true;
    return db_->Write(wo, &batch).ok();
  }

 private:
  void check(const ::rocksdb::Status& s, const char* what) {
    if (!s.ok() && ok_) {
      ok_ = false;
      error_ = std::string(what) + ": " + s.ToString();
    }
  }
  void scan(const char* cf, std::map<std::string, std::string>& out) const {
    std::unique_ptr<::rocksdb::Iterator> it(
        db_->NewIterator(::rocksdb::ReadOptions(), handles_.at(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out[it->key().ToString()] = it->value().ToString();
    }
  }
  void diff(::rocksdb::WriteBatch& batch, const char* cf,
            const std::map<std::string, std::string>& from,
            const std::map<std::string, std::string>& to) {
    ::rocksdb::ColumnFamilyHandle* h = handles_.at(cf);
    for (const auto& [k, v] : from) {
      if (to.count(k) == 0) (void)batch.Delete(h, k);
    }
    for (const auto& [k, v] : to) {
      auto f = from.find(k);
      if (f == from.end() || f->second != v) (void)batch.Put(h, k, v);
    }
  }

  std::unique_ptr<::rocksdb::DB> db_;
  std::map<std::string, ::rocksdb::ColumnFamilyHandle*> handles_;
  bool ok_ = true;
  std::string error_;
};

// What a correct backend serves from a database, when it is well-formed.
struct View {
  std::uint64_t first = 1;
  std::uint64_t last = 0;
  std::uint64_t boundary_term = 0;
  std::vector<LogEntry> entries;
  std::optional<HardState> hs;

  std::optional<std::uint64_t> term(std::uint64_t i) const {
    if (i + 1 == first) return boundary_term;
    if (i < first || i > last) return std::nullopt;
    return entries[i - first].term;
  }
  std::optional<LogEntry> entry(std::uint64_t i) const {
    if (i < first || i > last) return std::nullopt;
    return entries[i - first];
  }
  // entries(first, last, max_bytes): stops before the entry that would take the payload sum
  // over max_bytes, at least one entry.
  std::vector<LogEntry> budgeted(std::uint64_t max_bytes) const {
    std::vector<LogEntry> out;
    std::uint64_t bytes = 0;
    for (const LogEntry& e : entries) {
      if (!out.empty() && bytes + e.payload.size() > max_bytes) break;
      bytes += e.payload.size();
      out.push_back(e);
    }
    return out;
  }
};

// Why a database is not well-formed (kWellFormed: it is).
enum class Shape {
  kWellFormed,
  kBadBoundary,    // raft_meta first_index does not decode
  kBadHardState,   // raft_meta hard_state does not decode
  kBadKey,         // a raft_log key that is not 8 bytes
  kGap,            // index keys not contiguous from the boundary's first index
  kShortValue,     // a value without its 8-byte term
  kTermDecrease,   // a term below the one before it (or below the boundary's term)
  kPastMax,        // an index past kMaxLogIndex
  kNoHardState,    // entries (or a moved boundary) without any hard state
  kCommitPastLast  // the hard state's commit index past the last entry
};
const char* shape_name(Shape s) {
  switch (s) {
    case Shape::kWellFormed:
      return "well-formed";
    case Shape::kBadBoundary:
      return "bad boundary";
    case Shape::kBadHardState:
      return "bad hard state";
    case Shape::kBadKey:
      return "bad key size";
    case Shape::kGap:
      return "index gap";
    case Shape::kShortValue:
      return "short value";
    case Shape::kTermDecrease:
      return "term decreases";
    case Shape::kPastMax:
      return "index past max";
    case Shape::kNoHardState:
      return "no hard state";
    case Shape::kCommitPastLast:
      return "commit past last";
  }
  return "?";
}

Shape model(const Content& c, View& v) {
  v = View();
  if (auto b = c.meta.find("first_index"); b != c.meta.end()) {
    auto d = fmt::decode_boundary(b->second, "model");
    if (!d.has_value()) return Shape::kBadBoundary;
    v.first = d->first_index;
    v.boundary_term = d->term;
  }
  if (auto h = c.meta.find("hard_state"); h != c.meta.end()) {
    auto d = fmt::decode_hard_state(h->second, "model");
    if (!d.has_value()) return Shape::kBadHardState;
    v.hs = *d;
  }
  std::uint64_t prev_term = v.boundary_term;
  for (const auto& [k, val] : c.log) {
    if (k.size() != 8) return Shape::kBadKey;
    const auto index = strata::decode_be<std::uint64_t>(k.data());
    if (index != v.first + v.entries.size()) return Shape::kGap;
    if (index > kMaxLogIndex) return Shape::kPastMax;
    if (val.size() < 8) return Shape::kShortValue;
    const auto term = strata::decode_be<std::uint64_t>(val.data());
    if (term < prev_term) return Shape::kTermDecrease;
    prev_term = term;
    v.entries.push_back(LogEntry{index, term, val.substr(8)});
  }
  v.last = v.first + v.entries.size() - 1;
  if (!v.hs && (!v.entries.empty() || v.first > 1)) return Shape::kNoHardState;
  if (v.hs && v.hs->commit > v.last) return Shape::kCommitPastLast;
  return Shape::kWellFormed;
}

std::uint64_t interesting(std::mt19937_64& rng, std::uint64_t original) {
  switch (rng() % 8) {
    case 0:
      return 0;
    case 1:
      return original + 1;
    case 2:
      return original - 1;
    case 3:
      return ~std::uint64_t{0};
    case 4:
      return std::uint64_t{1} << 31;
    case 5:
      return original + 2;
    case 6:
      return kMaxLogIndex + 1;
    default:
      return rng();
  }
}

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    const auto ch = static_cast<unsigned char>(c);
    out.push_back(d[ch >> 4]);
    out.push_back(d[ch & 15]);
  }
  return out;
}
std::string key_name(bool log, const std::string& k) {
  if (log && k.size() == 8)
    return "raft_log[" + std::to_string(strata::decode_be<std::uint64_t>(k.data())) + "]";
  return std::string(log ? "raft_log[0x" : "raft_meta[\"") + (log ? hex(k) : k) +
         (log ? "]" : "\"]");
}

// A reference to one stored key: which family, which key.
struct Ref {
  bool log;
  std::string key;
};

// One mutation of `c`; returns its description.
std::string mutate(Content& c, std::mt19937_64& rng) {
  const auto pick = [&](std::size_t bound) { return bound == 0 ? 0 : rng() % bound; };
  const auto any_key = [&]() -> Ref {
    // Mostly raft_log (where most of the bytes are), a quarter raft_meta.
    const bool log = c.meta.empty() || rng() % 4 != 0;
    auto& m = log ? c.log : c.meta;
    auto it = m.begin();
    std::advance(it, pick(m.size()));
    return Ref{log, it->first};
  };
  const auto value_of = [&](const Ref& r) -> std::string& {
    return r.log ? c.log[r.key] : c.meta[r.key];
  };
  const auto random_bytes = [&](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(rng()));
    return s;
  };
  const auto log_index_at = [&](std::size_t k) {
    auto it = c.log.begin();
    std::advance(it, k);
    return strata::decode_be<std::uint64_t>(it->first.data());
  };
  const std::uint64_t first = log_index_at(0);
  const std::uint64_t last = log_index_at(c.log.size() - 1);
  std::ostringstream d;
  switch (rng() % 14) {
    case 0: {  // a bit flip
      const Ref r = any_key();
      std::string& v = value_of(r);
      if (v.empty()) return "nothing";
      const std::size_t at = pick(v.size());
      const int bit = static_cast<int>(rng() % 8);
      v[at] = static_cast<char>(v[at] ^ (1 << bit));
      d << "flip bit " << bit << " of byte " << at << " of " << key_name(r.log, r.key);
      break;
    }
    case 1: {  // a random byte
      const Ref r = any_key();
      std::string& v = value_of(r);
      if (v.empty()) return "nothing";
      const std::size_t at = pick(v.size());
      v[at] = static_cast<char>(rng());
      d << "random byte at " << at << " of " << key_name(r.log, r.key);
      break;
    }
    case 2: {  // truncation
      const Ref r = any_key();
      std::string& v = value_of(r);
      const std::size_t to =
          rng() % 2 == 0 ? pick(std::min<std::size_t>(v.size(), 9) + 1) : pick(v.size() + 1);
      d << "truncate " << key_name(r.log, r.key) << " from " << v.size() << " to " << to;
      v.resize(to);
      break;
    }
    case 3: {  // extension
      const Ref r = any_key();
      const std::size_t k = 1 + rng() % 40;
      value_of(r) += random_bytes(k);
      d << "extend " << key_name(r.log, r.key) << " by " << k << " bytes";
      break;
    }
    case 4: {  // a deleted key
      const Ref r = any_key();
      (r.log ? c.log : c.meta).erase(r.key);
      d << "delete " << key_name(r.log, r.key);
      break;
    }
    case 5: {  // an entry's term
      auto it = c.log.begin();
      std::advance(it, rng() % 3 == 0 ? c.log.size() - 1 : pick(c.log.size()));
      if (it->second.size() < 8) return "nothing";
      const auto old = strata::decode_be<std::uint64_t>(it->second.data());
      const std::uint64_t t = interesting(rng, old);
      strata::encode_be(t, it->second.data());
      d << "term of " << key_name(true, it->first) << " " << old << " -> " << t;
      break;
    }
    case 6: {  // an index key, outside or inside the log
      std::uint64_t index = 0;
      switch (rng() % 9) {
        case 0:
          index = first - 1;
          break;
        case 1:
          index = last + 1;
          break;
        case 2:
          index = last + 2;
          break;
        case 3:
          index = last + 1 + rng() % 1000;
          break;
        case 4:
          index = 0;
          break;
        case 5:
          index = kMaxLogIndex + rng() % 2;
          break;
        case 6:
          index = ~std::uint64_t{0};
          break;
        case 7:
          index = rng();
          break;
        default:  // an existing index: a duplicate of another entry's value
          index = log_index_at(pick(c.log.size()));
          break;
      }
      std::string value;
      switch (rng() % 3) {
        case 0: {  // another entry's value
          auto it = c.log.begin();
          std::advance(it, pick(c.log.size()));
          value = it->second;
          break;
        }
        case 1: {  // a continuation of the last entry
          const auto& lv = c.log.rbegin()->second;
          const std::uint64_t t = lv.size() >= 8 ? strata::decode_be<std::uint64_t>(lv.data()) : 1;
          value = entry_value(t + rng() % 2, "bogus");
          break;
        }
        default:
          value = random_bytes(rng() % 20);
          break;
      }
      d << "put " << key_name(true, index_key(index)) << " = 0x" << hex(value.substr(0, 16)) << " ("
        << value.size() << " bytes)";
      c.log[index_key(index)] = std::move(value);
      break;
    }
    case 7: {  // a raft_log key that is not 8 bytes
      std::string key;
      const std::string real = c.log.empty() ? index_key(1) : [&] {
        auto it = c.log.begin();
        std::advance(it, pick(c.log.size()));
        return it->first;
      }();
      switch (rng() % 4) {
        case 0:
          key = real + std::string(1, static_cast<char>(rng()));
          break;
        case 1:
          key = real.substr(0, pick(8));
          break;
        case 2:
          key = std::string(9, '\xff');
          break;
        default:
          key = random_bytes(rng() % 12);
          break;
      }
      auto it = c.log.begin();
      std::advance(it, pick(c.log.size()));
      d << "put " << key_name(true, key) << " = the value of " << key_name(true, it->first);
      c.log[key] = it->second;
      break;
    }
    case 8: {  // a bogus raft_meta key
      static const std::vector<std::string> names{
          std::string("first_index\0", 12), "hard_stat", "first_indey", "hard_state2", "", "\xff"};
      const std::string key =
          rng() % 4 == 0 ? random_bytes(1 + rng() % 12) : names[pick(names.size())];
      std::string value = random_bytes(rng() % 30);
      if (rng() % 2 == 0 && !c.meta.empty()) value = c.meta.begin()->second;
      d << "put raft_meta[0x" << hex(key) << "] (" << value.size() << " bytes)";
      c.meta[key] = std::move(value);
      break;
    }
    case 9: {  // two values swapped
      const Ref a = any_key();
      const Ref b = any_key();
      std::swap(value_of(a), value_of(b));
      d << "swap the values of " << key_name(a.log, a.key) << " and " << key_name(b.log, b.key);
      break;
    }
    case 10: {  // a value copied over another key
      const Ref a = any_key();
      const Ref b = any_key();
      const std::string v = value_of(a);
      value_of(b) = v;
      d << "copy the value of " << key_name(a.log, a.key) << " onto " << key_name(b.log, b.key);
      break;
    }
    case 11: {  // an entry moved to another index
      auto it = c.log.begin();
      std::advance(it, pick(c.log.size()));
      const std::string v = it->second;
      const std::string from = it->first;
      const std::uint64_t to =
          rng() % 2 == 0 ? last + 1 + rng() % 3 : first + pick(last - first + 2);
      c.log.erase(it);
      c.log[index_key(to)] = v;
      d << "move " << key_name(true, from) << " to index " << to;
      break;
    }
    case 12: {  // a field of the boundary
      auto b = c.meta.find("first_index");
      if (b == c.meta.end() || b->second.size() != fmt::kBoundarySize) return "nothing";
      const std::size_t field = rng() % 3 == 0 ? 0 : (rng() % 2 == 0 ? 1 : 9);
      if (field == 0) {
        b->second[0] = static_cast<char>(rng() % 3);
        d << "boundary version byte -> " << static_cast<int>(b->second[0]);
      } else {
        const auto old = strata::decode_be<std::uint64_t>(b->second.data() + field);
        const std::uint64_t n = interesting(rng, old);
        strata::encode_be(n, b->second.data() + field);
        d << "boundary " << (field == 1 ? "first index " : "term ") << old << " -> " << n;
      }
      break;
    }
    default: {  // a field of the hard state
      auto h = c.meta.find("hard_state");
      if (h == c.meta.end() || h->second.size() != fmt::kHardStateSize) return "nothing";
      static constexpr std::size_t kFields[] = {1, 10, 18};  // term, voted_for, commit
      if (rng() % 4 == 0) {
        const std::size_t at = rng() % 2 == 0 ? 0 : 9;  // version or vote flag
        h->second[at] = static_cast<char>(rng() % 3);
        d << "hard state byte " << at << " -> " << static_cast<int>(h->second[at]);
      } else {
        const std::size_t field = kFields[rng() % 3];
        const auto old = strata::decode_be<std::uint64_t>(h->second.data() + field);
        const std::uint64_t n = interesting(rng, old);
        strata::encode_be(n, h->second.data() + field);
        d << "hard state "
          << (field == 1    ? "term "
              : field == 10 ? "voted_for "
                            : "commit ")
          << old << " -> " << n;
      }
      break;
    }
  }
  return d.str();
}

template <typename T>
std::string show(const std::optional<T>& v) {
  if (!v) return "none";
  std::ostringstream o;
  if constexpr (std::is_same_v<T, LogEntry>) {
    o << "{" << v->index << ", term " << v->term << ", " << v->payload.size() << " bytes}";
  } else if constexpr (std::is_same_v<T, HardState>) {
    o << "{term " << v->term << ", vote "
      << (v->voted_for ? std::to_string(*v->voted_for) : std::string("none")) << ", commit "
      << v->commit << "}";
  } else {
    o << *v;
  }
  return o.str();
}
std::string show(const std::vector<LogEntry>& v) {
  std::ostringstream o;
  o << v.size() << " entries";
  if (!v.empty()) o << " [" << v.front().index << ".." << v.back().index << "]";
  return o.str();
}

// What is stored in a (mutated) database, key by key, decoded where it decodes: the ground
// truth a faithful read is compared with when the database as a whole is not well-formed.
struct Stored {
  std::map<std::uint64_t, LogEntry> entries;   // 8-byte keys with values of >= 8 bytes
  std::optional<fmt::Boundary> boundary;       // when it decodes (absent: {1, 0})
  std::optional<std::optional<HardState>> hs;  // when it decodes (absent: nullopt inside)

  explicit Stored(const Content& c) {
    for (const auto& [k, v] : c.log) {
      if (k.size() != 8 || v.size() < 8) continue;
      const auto index = strata::decode_be<std::uint64_t>(k.data());
      entries[index] = LogEntry{index, strata::decode_be<std::uint64_t>(v.data()), v.substr(8)};
    }
    if (auto b = c.meta.find("first_index"); b == c.meta.end()) {
      boundary = fmt::Boundary{};
    } else if (auto d = fmt::decode_boundary(b->second, "stored"); d.has_value()) {
      boundary = *d;
    }
    if (auto h = c.meta.find("hard_state"); h == c.meta.end()) {
      hs = std::optional<HardState>();
    } else if (auto d = fmt::decode_hard_state(h->second, "stored"); d.has_value()) {
      hs = std::optional<HardState>(*d);
    }
  }
  const LogEntry* at(std::uint64_t i) const {
    auto it = entries.find(i);
    return it == entries.end() ? nullptr : &it->second;
  }
  // Whether term `t` at index `i` keeps the order with what is stored next to it.
  bool in_order(std::uint64_t i, std::uint64_t t) const {
    const LogEntry* prev = at(i - 1);
    const LogEntry* next = at(i + 1);
    if (prev != nullptr && prev->term > t) return false;
    if (prev == nullptr && boundary && boundary->first_index == i && boundary->term > t) {
      return false;
    }
    return next == nullptr || t <= next->term;
  }
};

// How an answer that differs from what was written is explained.
enum class Diff {
  kRewrite,    // a faithful read of a stored value that breaks no order (no format without a
               // per-value checksum can tell it from data)
  kTermOrder,  // term(i)/entry(i): a faithful read of a middle entry's stored term that breaks
               // the order (a documented limit: single reads do not read the neighbours)
  kDamage      // anything else: served damage
};

const char* diff_name(Diff d) {
  switch (d) {
    case Diff::kRewrite:
      return "rewrite";
    case Diff::kTermOrder:
      return "single read of a term out of order";
    case Diff::kDamage:
      return "served damage";
  }
  return "?";
}

// The outcome of reading a mutated database.
struct Outcome {
  bool opened = false;
  Status refusal;                                  // why it did not open
  std::vector<Status> read_errors;                 // non-OK reads
  std::map<Diff, std::vector<std::string>> diffs;  // answers that differ from what was written
  std::vector<std::string> off_model;  // answers that differ from the model's (well-formed)
};

// Opens `dir` with strata and reads everything, comparing each answer with `orig` (what was
// written), with what is stored in `mutated`, and, when the database is well-formed, with `mv`
// (the model's view of it).
Outcome read_everything(const std::string& dir, const View& orig, const Content& mutated,
                        const View* mv) {
  Outcome out;
  auto engine = strata::raft::open_rocksdb_engine(dir, fuzz_options());
  if (!engine.has_value()) {
    out.refusal = engine.error();
    return out;
  }
  if (Status s = engine->check_hard_state(); !s.ok()) {
    out.refusal = s;
    return out;
  }
  out.opened = true;
  const Stored stored(mutated);
  const strata::raft::LogStore& log = engine->log();
  const std::uint64_t first = log.first_index();
  const std::uint64_t last = log.last_index();
  // A changed range: the model's when well-formed. Else only a longer log: a rewrite when
  // the new entries are stored right after the written ones (an append to the eye), a known
  // gap when the last index grew over indices that are not stored.
  Diff range = Diff::kDamage;
  if (mv != nullptr) {
    range = Diff::kRewrite;
  } else if (first == orig.first && last > orig.last && stored.at(last) != nullptr) {
    range = Diff::kRewrite;
    for (std::uint64_t i = orig.last + 1; i < last && range == Diff::kRewrite; ++i) {
      if (stored.at(i) == nullptr) range = Diff::kDamage;  // open() refuses a key past a gap
    }
  }
  const auto compare = [&](const std::string& call, const auto& got, const auto& want_orig,
                           const auto* want_model, Diff why) {
    if (got != want_orig) {
      out.diffs[why].push_back(call + ": " + show(got) + ", written " + show(want_orig));
    }
    if (want_model != nullptr && got != *want_model) {
      out.off_model.push_back(call + ": " + show(got) + ", model " + show(*want_model));
    }
  };
  // Whether entry `i`'s stored term `t` keeps the order; open() checks the boundary against
  // the first entry and the last entry against the one before it, so a break there is damage.
  const auto order = [&](std::uint64_t i, std::uint64_t t) {
    if (stored.in_order(i, t)) return Diff::kRewrite;
    const LogEntry* prev = stored.at(i - 1);
    const LogEntry* next = stored.at(i + 1);
    if (i == last && prev != nullptr && prev->term > t) return Diff::kDamage;
    if (i + 1 == last && next != nullptr && t > next->term) return Diff::kDamage;
    if (i == first && prev == nullptr && stored.boundary && stored.boundary->first_index == i &&
        stored.boundary->term > t) {
      return Diff::kDamage;
    }
    return Diff::kTermOrder;
  };
  // Why an answer about entry `i` with term `t` (or none) may differ.
  const auto why_term = [&](std::uint64_t i, const std::optional<std::uint64_t>& t) {
    if (!t) return range;  // the index is outside the served range
    std::optional<std::uint64_t> stored_term;
    if (i + 1 == first) {
      if (stored.boundary && stored.boundary->first_index == first) {
        stored_term = stored.boundary->term;
      }
      if (stored_term != t) return Diff::kDamage;
      const LogEntry* next = stored.at(first);
      return next == nullptr || *t <= next->term ? Diff::kRewrite : Diff::kDamage;
    }
    if (const LogEntry* e = stored.at(i); e == nullptr || e->term != *t) return Diff::kDamage;
    return order(i, *t);
  };
  const auto why_entry = [&](const std::optional<LogEntry>& e) {
    if (!e) return range;
    const LogEntry* s = stored.at(e->index);
    if (s == nullptr || *s != *e) return Diff::kDamage;
    return order(e->index, e->term);
  };
  const auto as_opt = [](std::uint64_t x) { return std::optional<std::uint64_t>(x); };
  {
    const std::optional<std::uint64_t> mf = mv ? as_opt(mv->first) : std::nullopt;
    const std::optional<std::uint64_t> ml = mv ? as_opt(mv->last) : std::nullopt;
    compare("first_index()", as_opt(first), as_opt(orig.first), mv ? &mf : nullptr,
            mv ? Diff::kRewrite : Diff::kDamage);
    compare("last_index()", as_opt(last), as_opt(orig.last), mv ? &ml : nullptr, range);
  }
  // term(i) and entry(i) across what was written and what is served (its ends only, when the
  // served range reaches far away).
  std::vector<std::uint64_t> indices;
  const std::uint64_t lo = std::min(first, orig.first);
  const std::uint64_t hi = std::max(orig.last, std::min(last, orig.last + 16));
  for (std::uint64_t i = lo == 0 ? 0 : lo - 1; i <= hi + 1; ++i) indices.push_back(i);
  for (std::uint64_t i : {first - 1, first, last, last + 1}) indices.push_back(i);
  for (std::uint64_t i : indices) {
    auto t = log.term(i);
    if (!t.has_value()) {
      out.read_errors.push_back(t.error());
    } else {
      const std::optional<std::uint64_t> mt = mv ? mv->term(i) : std::nullopt;
      compare("term(" + std::to_string(i) + ")", *t, orig.term(i), mv ? &mt : nullptr,
              why_term(i, *t));
    }
    auto e = log.entry(i);
    if (!e.has_value()) {
      out.read_errors.push_back(e.error());
    } else {
      const std::optional<LogEntry> me = mv ? mv->entry(i) : std::nullopt;
      compare("entry(" + std::to_string(i) + ")", *e, orig.entry(i), mv ? &me : nullptr,
              why_entry(*e));
    }
  }
  if (last >= first) {
    for (const std::uint64_t budget : {strata::raft::LogStore::kNoLimit, std::uint64_t{300}}) {
      auto all = log.entries(first, last, budget);
      const std::string call =
          "entries(" + std::to_string(first) + ", " + std::to_string(last) + ", " +
          (budget == strata::raft::LogStore::kNoLimit ? std::string("no limit")
                                                      : std::to_string(budget)) +
          ")";
      if (!all.has_value()) {
        out.read_errors.push_back(all.error());
        continue;
      }
      const std::vector<LogEntry> want = orig.budgeted(budget);
      const std::vector<LogEntry> want_model = mv ? mv->budgeted(budget) : std::vector<LogEntry>();
      Diff why = Diff::kRewrite;
      if (first != orig.first || (all->size() != want.size() && last != orig.last)) why = range;
      // entries() checks that the terms it serves never decrease, from the boundary's.
      std::uint64_t prev_term =
          stored.boundary && stored.boundary->first_index == first ? stored.boundary->term : 0;
      for (const LogEntry& e : *all) {
        const LogEntry* s = stored.at(e.index);
        if (s == nullptr || *s != e || e.term < prev_term) why = Diff::kDamage;
        prev_term = e.term;
      }
      compare(call, *all, want, mv ? &want_model : nullptr, why);
    }
  }
  auto hs = engine->meta().load();
  if (!hs.has_value()) {
    out.read_errors.push_back(hs.error());
  } else {
    // A faithful read of a stored hard state that agrees with the served log is a rewrite
    // (no checksum); anything else is damage (check_hard_state refuses those at open).
    const bool agrees = *hs ? (*hs)->commit <= last : last < first && first == 1;
    compare("meta().load()", *hs, orig.hs, mv ? &mv->hs : nullptr,
            stored.hs && *stored.hs == *hs && agrees ? Diff::kRewrite : Diff::kDamage);
  }
  return out;
}

std::string status_kind(const Status& s) { return std::string(strata::to_string(s.code())); }

// Builds the database every iteration starts from; returns what was written.
View build_seed(const std::string& dir) {
  View v;
  auto engine = strata::raft::open_rocksdb_engine(dir, fuzz_options());
  EXPECT_TRUE(engine.has_value()) << engine.error();
  if (!engine.has_value()) return v;
  strata::raft::LogStore& log = engine->log();
  EXPECT_TRUE(engine->meta().save(HardState{1, 1, 0}).ok());
  std::mt19937_64 setup(11);
  std::uint64_t term = 1;
  std::vector<LogEntry> written;
  for (std::uint64_t i = 1; i <= 140; ++i) {
    if (setup() % 12 == 0) ++term;
    written.push_back(
        LogEntry{i, term, std::string(setup() % 60, static_cast<char>('a' + i % 26))});
  }
  EXPECT_TRUE(log.append(std::span<const LogEntry>(written).first(100)).ok());
  // Part of the log in an SST, the rest only in the WAL.
  EXPECT_TRUE(engine->log().sync().ok());
  auto* rocks = dynamic_cast<strata::raft::RocksDbLogStore&>(log).db()->raw_db();
  EXPECT_TRUE(rocks->Flush(::rocksdb::FlushOptions()).ok());
  EXPECT_TRUE(log.append(std::span<const LogEntry>(written).subspan(100)).ok());
  // A replace of the tail by a newer term (a range tombstone), then a purge.
  std::vector<LogEntry> tail;
  for (std::uint64_t i = 131; i <= 136; ++i) {
    tail.push_back(LogEntry{i, term + 1, "replaced-" + std::to_string(i)});
  }
  EXPECT_TRUE(log.replace(131, tail).ok());
  written.resize(130);
  written.insert(written.end(), tail.begin(), tail.end());
  EXPECT_TRUE(log.purge(20).ok());
  v.first = 21;
  v.last = 136;
  v.boundary_term = written[19].term;
  v.entries.assign(written.begin() + 20, written.end());
  v.hs = HardState{term + 2, 2, 136};
  EXPECT_TRUE(engine->meta().save(*v.hs).ok());
  EXPECT_TRUE(log.close().ok());
  return v;
}

TEST(RocksDbFormatFuzz, MutatedKeysAndValuesNeverCrashOrServeDamage) {
  TempDir base("rocks-fuzz");
  const std::string seed_dir = base.file("seed");
  const View written = build_seed(seed_dir);
  ASSERT_FALSE(::testing::Test::HasFailure());
  Content pristine;
  {
    RawDb raw(seed_dir, true);
    ASSERT_TRUE(raw.ok()) << raw.error();
    pristine = raw.read();
  }
  {  // The model agrees with what was written, and so does strata.
    View m;
    ASSERT_EQ(model(pristine, m), Shape::kWellFormed);
    ASSERT_EQ(m.entries, written.entries);
    ASSERT_EQ(m.first, written.first);
    ASSERT_EQ(m.boundary_term, written.boundary_term);
    ASSERT_EQ(m.hs, written.hs);
    const Outcome o = read_everything(seed_dir, written, pristine, &m);
    ASSERT_TRUE(o.opened) << o.refusal;
    ASSERT_TRUE(o.read_errors.empty()) << o.read_errors.front();
    ASSERT_TRUE(o.diffs.empty()) << o.diffs.begin()->second.front();
  }

  const int n = strata::testing::fuzz_iterations(300);
  int refused = 0;
  int opened_with_errors = 0;
  int served_intact = 0;  // every answer exactly what was written
  int rewrites = 0;       // faithful reads of rewritten values that break no order (no checksum)
  int known_terms = 0;    // term(i)/entry(i) served a middle entry's term out of order
  std::map<std::string, int> kinds;  // the first error of each iteration, by code
  std::map<std::string, int> shapes;
  // STRATA_FUZZ_VERBOSE=1 prints every malformed database served with a changed answer.
  const bool verbose = std::getenv("STRATA_FUZZ_VERBOSE") != nullptr;
  for (int it = 0; it < n; ++it) {
    const std::uint64_t seed = 31000 + static_cast<std::uint64_t>(it);
    std::mt19937_64 rng(seed);
    Content mutated = pristine;
    const std::string what = mutate(mutated, rng);
    SCOPED_TRACE("seed " + std::to_string(seed) + ": " + what);
    if (mutated == pristine) continue;
    const fs::path dir = base.file("case" + std::to_string(it % 2));
    fs::remove_all(dir);
    fs::copy(seed_dir, dir, fs::copy_options::recursive);
    {
      RawDb raw(dir.string(), true);
      ASSERT_TRUE(raw.ok()) << raw.error();
      ASSERT_TRUE(raw.write_diff(pristine, mutated));
    }
    View mv;
    const Shape shape = model(mutated, mv);
    ++shapes[shape_name(shape)];
    const bool well_formed = shape == Shape::kWellFormed;
    const Outcome o = read_everything(dir.string(), written, mutated, well_formed ? &mv : nullptr);
    if (!o.opened) {
      ++refused;
      ++kinds[status_kind(o.refusal)];
      ASSERT_FALSE(well_formed) << "a well-formed database was refused: " << o.refusal;
      continue;
    }
    if (!o.read_errors.empty()) {
      ++opened_with_errors;
      ++kinds[status_kind(o.read_errors.front())];
    }
    if (well_formed) {
      ASSERT_TRUE(o.read_errors.empty()) << "a well-formed database gave " << o.read_errors.front();
      ASSERT_TRUE(o.off_model.empty()) << o.off_model.front();
      for (const auto& [why, calls] : o.diffs) {
        ASSERT_EQ(why, Diff::kRewrite) << calls.front();
      }
      if (o.diffs.empty()) {
        ++served_intact;
      } else {
        ++rewrites;
      }
      // The write path on top of it.
      {
        auto engine = strata::raft::open_rocksdb_engine(dir.string(), fuzz_options());
        ASSERT_TRUE(engine.has_value()) << engine.error();
        const std::uint64_t t = mv.entries.empty() ? mv.boundary_term : mv.entries.back().term;
        const LogEntry e{mv.last + 1, t, "after-" + std::to_string(it)};
        ASSERT_TRUE(engine->log().append(std::span<const LogEntry>(&e, 1)).ok());
        ASSERT_TRUE(engine->log().sync().ok());
        ASSERT_TRUE(engine->log().close().ok());
        mv.entries.push_back(e);
        mv.last += 1;
      }
      const Outcome again = read_everything(dir.string(), mv, mutated, &mv);
      ASSERT_TRUE(again.opened) << again.refusal;
      ASSERT_TRUE(again.read_errors.empty()) << again.read_errors.front();
      ASSERT_TRUE(again.diffs.empty()) << again.diffs.begin()->second.front();
      continue;
    }
    if (verbose && !o.diffs.empty()) {
      const auto& [why, calls] = *o.diffs.rbegin();
      std::printf("seed %llu: %s -> %s: %s\n", static_cast<unsigned long long>(seed), what.c_str(),
                  diff_name(why), calls.front().c_str());
    }
    // Served damage fails; single reads of a middle entry's term out of order are counted.
    if (auto d = o.diffs.find(Diff::kDamage); d != o.diffs.end()) {
      ADD_FAILURE() << "served damage (" << shape_name(shape) << "): " << d->second.front() << " ("
                    << d->second.size() << " calls)";
    } else if (o.diffs.count(Diff::kTermOrder) != 0) {
      ++known_terms;
    } else if (o.diffs.count(Diff::kRewrite) != 0) {
      ++rewrites;
    } else {
      ++served_intact;
    }
  }
  std::printf(
      "%d mutations: %d refused at open, %d opened with read errors, %d served intact, %d "
      "served rewritten values that break no rule; %d single reads of a middle entry's term out "
      "of order\n",
      n, refused, opened_with_errors, served_intact, rewrites, known_terms);
  std::printf("shapes:");
  for (const auto& [k, c] : shapes) std::printf(" %s=%d", k.c_str(), c);
  std::printf("\nfirst errors:");
  for (const auto& [k, c] : kinds) std::printf(" %s=%d", k.c_str(), c);
  std::printf("\n");
  EXPECT_GT(refused, 0);
  EXPECT_GT(opened_with_errors, 0);
}

// --- damage that was served -------------------------------------------------------------
//
// Each test below is a case RocksDbFormatFuzz found served with OK answers: a database that
// strata could never have written (it breaks an invariant of strata/raft/log_store.h). The
// file log refuses the same damage (scan_segment checks every term against the one before
// it). RocksDbLogStore used to read only the first and the last key at open and check neither
// term, and entries() checked keys and value sizes, never terms; each test failed then.

// A log of entries 1..10, terms 1,1,1,2,2,2,3,3,3,3, a hard state committing all of them; then
// `damage` applied with raw RocksDB.
template <typename F>
void build_and_damage(const std::string& dir, F damage) {
  {
    auto engine = strata::raft::open_rocksdb_engine(dir);
    ASSERT_TRUE(engine.has_value()) << engine.error();
    ASSERT_TRUE(engine->meta().save(HardState{3, 1, 10}).ok());
    std::vector<LogEntry> entries;
    for (std::uint64_t i = 1; i <= 10; ++i) {
      entries.push_back(LogEntry{i, i <= 3 ? 1u : i <= 6 ? 2u : 3u, "e" + std::to_string(i)});
    }
    ASSERT_TRUE(engine->log().append(entries).ok());
    ASSERT_TRUE(engine->log().close().ok());
  }
  RawDb raw(dir);
  ASSERT_TRUE(raw.ok()) << raw.error();
  const Content before = raw.read();
  Content after = before;
  damage(after);
  ASSERT_TRUE(raw.write_diff(before, after));
}

// Fuzz seeds 31267 ("term of raft_log[28] 4 -> 3"), 31190 ("term of raft_log[72] 9 -> 8"),
// 31074 (the values of raft_log[38] and [50] swapped): 77 of the 300 default seeds. An entry
// whose stored term is below the term of the entry before it (or above the next one's) was
// served — term(5) == 1 after term(4) == 2, and entries(1, 10) returns OK with terms
// 1,1,1,2,1,2,3,3,3,3. Now entries() refuses it (corruption; the scan has both neighbours in
// hand). term(5) alone still reads entry 5 only (rocksdb_log_store.h).
TEST(RocksDbFormatDamage, AnEntryWithATermBelowThePreviousOneIsNotServed) {
  TempDir dir("rocks-damage");
  build_and_damage(dir.file("db"), [](Content& c) {
    strata::encode_be(std::uint64_t{1}, c.log.at(index_key(5)).data());
  });
  auto engine = strata::raft::open_rocksdb_engine(dir.file("db"));
  if (!engine.has_value()) {
    EXPECT_TRUE(engine.error().is_corruption()) << engine.error();
    return;
  }
  auto all = engine->log().entries(1, 10);
  std::string terms;
  if (all.has_value()) {
    for (const LogEntry& e : *all) terms += std::to_string(e.term) + " ";
  }
  ASSERT_FALSE(all.has_value()) << "entries(1, 10) served terms " << terms << "and term(5) is "
                                << engine->log().term(5).value().value_or(0);
  EXPECT_TRUE(all.error().is_corruption()) << all.error();
}

// Fuzz seeds 31050 and 31100 ("term of raft_log[136] 14 -> 0"): the last entry's stored term
// lowered below the one before it. open() took it as the last term (it read only the last key),
// every read was OK, term(10) == 0, and the log then took an append of term 1 after entries of
// term 3. Now: corruption at open (it reads last - 1 too).
TEST(RocksDbFormatDamage, ALastEntryWithATermBelowThePreviousOneIsCorruptionAtOpen) {
  TempDir dir("rocks-damage");
  build_and_damage(dir.file("db"), [](Content& c) {
    strata::encode_be(std::uint64_t{0}, c.log.at(index_key(10)).data());
  });
  auto engine = strata::raft::open_rocksdb_engine(dir.file("db"));
  if (engine.has_value()) {
    const std::uint64_t t = engine->log().term(10).value().value_or(99);
    const LogEntry e{11, 1, "after"};
    const Status appended = engine->log().append(std::span<const LogEntry>(&e, 1));
    FAIL() << "opened with term(10) == " << t << "; an append of term 1 at index 11 after term "
           << engine->log().term(9).value().value_or(0) << " gives " << appended;
  }
  EXPECT_TRUE(engine.error().is_corruption()) << engine.error();
}

// Fuzz seeds 31066 and 31178 ("boundary term 2 -> 4"), 31137 and 31252 (a random byte in the
// boundary's term): the purge boundary's term raised above the term of the first entry is
// served as term(first_index() - 1), and an append to a log purged empty would be checked
// against it. open() had the first entry in hand and did not compare. Now: corruption at open.
TEST(RocksDbFormatDamage, ABoundaryTermAboveTheFirstEntrysTermIsCorruptionAtOpen) {
  TempDir dir("rocks-damage");
  build_and_damage(dir.file("db"), [](Content& c) {
    // Purge 1..3 by hand: the boundary {4, term 1}, with term 9 instead.
    for (std::uint64_t i = 1; i <= 3; ++i) c.log.erase(index_key(i));
    c.meta["first_index"] = fmt::encode_boundary(fmt::Boundary{4, 9});
  });
  auto engine = strata::raft::open_rocksdb_engine(dir.file("db"));
  ASSERT_FALSE(engine.has_value())
      << "opened with term(3) == " << engine->log().term(3).value().value_or(0)
      << " above term(4) == " << engine->log().term(4).value().value_or(0);
  EXPECT_TRUE(engine.error().is_corruption()) << engine.error();
}

// Fuzz seeds 31113 ("put raft_log[633]", an entry value), 31135 (raft_log[138], random
// bytes), 31265 ("move raft_log[66] to index 139"): 8 of the 300 default seeds. A key past
// the last with a gap before it: open() took the highest key as the last entry without
// checking the one before it, so last_index() == 15 and term(15) answered OK with the stored
// term (a vote request or an append would use both); only reads of 11..14 failed.
// Now: corruption at open (it reads last - 1, and sees the gap).
TEST(RocksDbFormatDamage, AnEntryPastAGapAfterTheLastIsCorruptionAtOpen) {
  TempDir dir("rocks-damage");
  build_and_damage(dir.file("db"), [](Content& c) { c.log[index_key(15)] = entry_value(7, "x"); });
  auto engine = strata::raft::open_rocksdb_engine(dir.file("db"));
  ASSERT_FALSE(engine.has_value()) << "opened with last_index() == " << engine->log().last_index()
                                   << ", term " << engine->log().term(15).value().value_or(0);
  EXPECT_TRUE(engine.error().is_corruption()) << engine.error();
}

}  // namespace
