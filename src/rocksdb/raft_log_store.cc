// src/rocksdb/raft_log_store.cc — RocksDbLogStore and RocksDbMetaStore (layout and durability:
// strata/raft/rocksdb/rocksdb_log_store.h). Compiled once here rather than in every file that
// includes <strata/rocksdb.h>.
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>

#include "strata/core/bytes.h"
#include "strata/raft/format.h"
#include "strata/raft/rocksdb/rocksdb_log_store.h"
#include "strata/rocksdb/status.h"

namespace strata::raft {
namespace {

constexpr std::string_view kFirstIndexKey = "first_index";
constexpr std::string_view kHardStateKey = "hard_state";

std::string index_key(std::uint64_t index) {
  const auto k = encode_be(index);
  return std::string(k.data(), k.size());
}
// An exclusive upper bound above every index key.
std::string past_every_index() { return std::string(9, '\xff'); }

Result<LogEntry> decode_entry(std::uint64_t index, std::string_view value) {
  if (value.size() < 8) {
    return Status::corruption("raft_log entry " + std::to_string(index) + ": value of " +
                              std::to_string(value.size()) + " bytes has no term");
  }
  return LogEntry{index, decode_be<std::uint64_t>(value.data()), std::string(value.substr(8))};
}

Status term_order_error(std::uint64_t index, std::uint64_t term, std::uint64_t before) {
  return Status::corruption("raft_log: entry " + std::to_string(index) + " has term " +
                            std::to_string(term) + ", below the term " + std::to_string(before) +
                            " before it");
}

void put_entries(RocksDbRaftDb::write_batch& batch, std::span<const LogEntry> entries) {
  std::string value;
  for (const LogEntry& e : entries) {
    value.resize(8 + e.payload.size());
    encode_be(e.term, value.data());
    if (!e.payload.empty()) e.payload.copy(value.data() + 8, e.payload.size());
    batch.put(RocksDbRaftSpace::kLog, index_key(e.index), value);
  }
}

}  // namespace

Result<std::unique_ptr<RocksDbLogStore>> RocksDbLogStore::open(std::shared_ptr<RocksDbRaftDb> db) {
  if (!db || !db->is_open()) return Status::invalid_argument("RocksDbLogStore: no database");
  std::unique_ptr<RocksDbLogStore> log(new RocksDbLogStore(std::move(db)));
  STRATA_RETURN_IF_ERROR(log->recover());
  return log;
}

Status RocksDbLogStore::do_append(std::span<const LogEntry> entries) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  auto batch = db_->new_batch();
  put_entries(batch, entries);
  STRATA_RETURN_IF_ERROR(commit(std::move(batch), false));
  last_term_ = entries.back().term;
  last_.store(entries.back().index, std::memory_order_release);
  return Status();
}

Result<std::optional<LogEntry>> RocksDbLogStore::do_entry(std::uint64_t index) const {
  std::shared_lock lock(mu_);
  if (index < first_index() || index > last_index()) return std::optional<LogEntry>();
  STRATA_ASSIGN_OR_RETURN(LogEntry e, get_locked(index));
  return std::optional<LogEntry>(std::move(e));
}

Result<std::vector<LogEntry>> RocksDbLogStore::do_entries(std::uint64_t first, std::uint64_t last,
                                                          std::uint64_t max_bytes) const {
  std::shared_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(raft::detail::check_range(first, last, first_index(), last_index()));
  std::vector<LogEntry> out;
  if (first > last) return out;
  // The shared database closed under the log (its reads through RocksDbStore say the same).
  if (db_->raw_db() == nullptr) return Status::shutdown("RocksDbStore is closed");
  const std::string begin = index_key(first);
  const std::string end = index_key(last + 1);  // last <= kMaxLogIndex: no wrap
  ::rocksdb::Slice upper(end);
  ::rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->raw_db()->NewIterator(ro, db_->column_family(RocksDbRaftSpace::kLog)));
  std::uint64_t bytes = 0;
  std::uint64_t expect = first;
  // Terms never decrease along the log, from the boundary's on (entries before `first` are not
  // read: a range that starts inside the log is checked from its own first entry).
  std::uint64_t prev_term = first == first_index() ? boundary_term_ : 0;
  for (it->Seek(begin); it->Valid() && expect <= last; it->Next(), ++expect) {
    const ::rocksdb::Slice k = it->key();
    if (k.size() != 8 || decode_be<std::uint64_t>(k.data()) != expect) {
      return Status::corruption("raft_log: entry " + std::to_string(expect) + " is missing");
    }
    const ::rocksdb::Slice v = it->value();
    const std::uint64_t payload = v.size() >= 8 ? v.size() - 8 : 0;
    if (!out.empty() && bytes + payload > max_bytes) return out;
    bytes += payload;
    STRATA_ASSIGN_OR_RETURN(LogEntry e, decode_entry(expect, std::string_view(v.data(), v.size())));
    if (e.term < prev_term) return term_order_error(expect, e.term, prev_term);
    prev_term = e.term;
    out.push_back(std::move(e));
  }
  STRATA_RETURN_IF_ERROR(strata::from_rocksdb(it->status(), "raft_log scan"));
  if (expect <= last && (out.empty() || bytes <= max_bytes)) {
    return Status::corruption("raft_log: entry " + std::to_string(expect) + " is missing");
  }
  return out;
}

Result<std::optional<std::uint64_t>> RocksDbLogStore::do_term(std::uint64_t index) const {
  std::shared_lock lock(mu_);
  if (index + 1 == first_index()) return std::optional<std::uint64_t>(boundary_term_);
  if (index < first_index() || index > last_index()) return std::optional<std::uint64_t>();
  if (index == last_index()) return std::optional<std::uint64_t>(last_term_);
  STRATA_ASSIGN_OR_RETURN(LogEntry e, get_locked(index));
  return std::optional<std::uint64_t>(e.term);
}

Status RocksDbLogStore::do_purge(std::uint64_t up_to, std::uint64_t up_to_term) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  auto batch = db_->new_batch();
  batch.delete_range(RocksDbRaftSpace::kLog, index_key(first_index()), index_key(up_to + 1));
  batch.put(RocksDbRaftSpace::kMeta, kFirstIndexKey,
            format::encode_boundary({up_to + 1, up_to_term}));
  STRATA_RETURN_IF_ERROR(commit(std::move(batch), false));
  boundary_term_ = up_to_term;
  if (up_to == last_index()) last_term_ = up_to_term;
  first_.store(up_to + 1, std::memory_order_release);
  return Status();
}

Status RocksDbLogStore::do_truncate(std::uint64_t from) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t prev_term, term_before(from));
  auto batch = db_->new_batch();
  batch.delete_range(RocksDbRaftSpace::kLog, index_key(from), past_every_index());
  STRATA_RETURN_IF_ERROR(commit(std::move(batch), true));
  last_term_ = prev_term;
  last_.store(from - 1, std::memory_order_release);
  return Status();
}

Status RocksDbLogStore::do_replace(std::uint64_t from, std::span<const LogEntry> entries) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t prev_term, term_before(from));
  auto batch = db_->new_batch();
  if (from <= last_index()) {
    batch.delete_range(RocksDbRaftSpace::kLog, index_key(from), past_every_index());
  }
  put_entries(batch, entries);
  // Synced when the truncation removed entries (replace's truncation is synced on return).
  STRATA_RETURN_IF_ERROR(commit(std::move(batch), from <= last_index()));
  last_term_ = entries.empty() ? prev_term : entries.back().term;
  last_.store(entries.empty() ? from - 1 : entries.back().index, std::memory_order_release);
  return Status();
}

Status RocksDbLogStore::do_sync() {
  {
    std::shared_lock lock(mu_);
    STRATA_RETURN_IF_ERROR(error_);
  }
  // RocksDbStore::sync_wal, not DB::SyncWAL: after a failed write it answers with that write
  // instead of tripping RocksDB's assertion (Debian builds librocksdb with assertions on).
  Status s = db_->sync_wal().with_context("raft_log sync");
  if (!s.ok()) {
    std::unique_lock lock(mu_);
    if (error_.ok()) error_ = s;
  }
  return s;
}

Status RocksDbLogStore::do_reset(std::uint64_t next_index, std::uint64_t prev_term) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  auto batch = db_->new_batch();
  batch.delete_range(RocksDbRaftSpace::kLog, std::string(), past_every_index());
  batch.put(RocksDbRaftSpace::kMeta, kFirstIndexKey,
            format::encode_boundary({next_index, prev_term}));
  STRATA_RETURN_IF_ERROR(commit(std::move(batch), true));
  last_term_ = prev_term;
  boundary_term_ = prev_term;
  first_.store(next_index, std::memory_order_release);
  last_.store(next_index - 1, std::memory_order_release);
  return Status();
}

Status RocksDbLogStore::recover() {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                          db_->get(RocksDbRaftSpace::kMeta, kFirstIndexKey));
  format::Boundary boundary;
  if (stored) {
    STRATA_ASSIGN_OR_RETURN(boundary, format::decode_boundary(*stored, "raft_meta"));
  }
  const std::uint64_t first = boundary.first_index;
  boundary_term_ = boundary.term;
  std::unique_ptr<::rocksdb::Iterator> it(db_->raw_db()->NewIterator(
      ::rocksdb::ReadOptions(), db_->column_family(RocksDbRaftSpace::kLog)));
  it->SeekToFirst();
  if (!it->Valid()) {
    STRATA_RETURN_IF_ERROR(strata::from_rocksdb(it->status(), "raft_log open"));
    first_.store(first);
    last_.store(first - 1);
    last_term_ = boundary_term_;
    return Status();
  }
  if (it->key().size() != 8) return Status::corruption("raft_log: bad key size");
  const std::uint64_t lowest = decode_be<std::uint64_t>(it->key().data());
  if (lowest != first) {
    return Status::corruption("raft_log: log starts at " + std::to_string(lowest) +
                              ", the boundary says " + std::to_string(first));
  }
  const auto decode_at = [&](std::uint64_t index) {
    return decode_entry(index, std::string_view(it->value().data(), it->value().size()));
  };
  STRATA_ASSIGN_OR_RETURN(const LogEntry head, decode_at(first));
  if (head.term < boundary_term_) return term_order_error(first, head.term, boundary_term_);
  // The last entry, and the one before it: the last index and term every append and vote
  // relies on must continue the log (a key past a gap, or a lower term, is damage).
  it->SeekToLast();
  if (!it->Valid() || it->key().size() != 8) {
    STRATA_RETURN_IF_ERROR(strata::from_rocksdb(it->status(), "raft_log open"));
    return Status::corruption("raft_log: cannot read the last entry");
  }
  const std::uint64_t last = decode_be<std::uint64_t>(it->key().data());
  if (last < first || last > kMaxLogIndex) {
    return Status::corruption("raft_log: last entry " + std::to_string(last) + " out of range");
  }
  STRATA_ASSIGN_OR_RETURN(const LogEntry e, decode_at(last));
  if (last > first) {
    it->Prev();
    if (!it->Valid() || it->key().size() != 8 ||
        decode_be<std::uint64_t>(it->key().data()) != last - 1) {
      STRATA_RETURN_IF_ERROR(strata::from_rocksdb(it->status(), "raft_log open"));
      return Status::corruption("raft_log: entry " + std::to_string(last - 1) +
                                " is missing before the last entry " + std::to_string(last));
    }
    STRATA_ASSIGN_OR_RETURN(const LogEntry before, decode_at(last - 1));
    if (e.term < before.term) return term_order_error(last, e.term, before.term);
  }
  first_.store(first);
  last_.store(last);
  last_term_ = e.term;
  return Status();
}

Status RocksDbLogStore::commit(RocksDbRaftDb::write_batch&& batch, bool sync) {
  Status s = db_->commit(std::move(batch), WriteOptions{.sync = sync});
  if (!s.ok() && error_.ok()) error_ = s;
  return s;
}

Result<LogEntry> RocksDbLogStore::get_locked(std::uint64_t index) const {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> v,
                          db_->get(RocksDbRaftSpace::kLog, index_key(index)));
  if (!v) return Status::corruption("raft_log: entry " + std::to_string(index) + " is missing");
  return decode_entry(index, *v);
}

Result<std::uint64_t> RocksDbLogStore::term_before(std::uint64_t from) const {
  if (from <= first_index()) return boundary_term_;
  if (from - 1 == last_index()) return last_term_;
  STRATA_ASSIGN_OR_RETURN(LogEntry e, get_locked(from - 1));
  return e.term;
}

Status RocksDbMetaStore::save(const HardState& state) {
  auto batch = db_->new_batch();
  batch.put(RocksDbRaftSpace::kMeta, kHardStateKey, raft::format::encode_hard_state(state));
  return db_->commit(std::move(batch), WriteOptions{.sync = true});
}

Result<std::optional<HardState>> RocksDbMetaStore::load() const {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> v,
                          db_->get(RocksDbRaftSpace::kMeta, kHardStateKey));
  if (!v) return std::optional<HardState>();
  STRATA_ASSIGN_OR_RETURN(HardState hs, raft::format::decode_hard_state(*v, "raft_meta"));
  return std::optional<HardState>(hs);
}

strata::RocksDbOptions raft_rocksdb_options() {
  strata::RocksDbOptions o;
  o.block_cache_bytes = std::size_t{32} << 20;
  o.compression.codec = strata::Compression::kNone;
  o.compression.bottommost_codec = std::nullopt;
  return o;
}

Result<StorageEngine> open_rocksdb_engine(const std::filesystem::path& dir,
                                          const strata::RocksDbOptions& options,
                                          bool check_hard_state) {
  auto db = RocksDbRaftDb::open(dir, options);
  if (!db) return db.error();
  auto shared = std::make_shared<RocksDbRaftDb>(std::move(*db));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbLogStore> log, RocksDbLogStore::open(shared));
  StorageEngine engine(std::move(log), std::make_unique<RocksDbMetaStore>(std::move(shared)));
  if (check_hard_state) {
    if (Status s = engine.check_hard_state(); !s.ok()) {
      return s.with_context("raft database " + dir.string());
    }
  }
  return engine;
}

}  // namespace strata::raft
