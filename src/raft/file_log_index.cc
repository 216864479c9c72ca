// LogIndex, read_records and BatchCache (file_log_index.h).
#include "file_log_index.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <utility>

#include "strata/core/bytes.h"

namespace strata::raft::detail {

std::uint64_t LogIndex::term_of(std::uint64_t index) const {
  auto it = std::upper_bound(term_runs.begin(), term_runs.end(), index,
                             [](std::uint64_t i, const format::TermRun& r) { return i < r.index; });
  return it == term_runs.begin() ? 0 : std::prev(it)->term;
}

void LogIndex::drop_terms_before(std::uint64_t first) {
  auto it = std::upper_bound(term_runs.begin(), term_runs.end(), first,
                             [](std::uint64_t i, const format::TermRun& r) { return i < r.index; });
  if (it != term_runs.begin()) term_runs.erase(term_runs.begin(), std::prev(it));
}

void LogIndex::drop_terms_from(std::uint64_t from) {
  while (!term_runs.empty() && term_runs.back().index >= from) term_runs.pop_back();
}

const Segment& LogIndex::segment_of(std::uint64_t index) const {
  auto it = std::upper_bound(segments.begin(), segments.end(), index,
                             [](std::uint64_t i, const Segment& s) { return i < s.first; });
  return *std::prev(it);
}

std::uint64_t LogIndex::memory_bytes() const {
  std::uint64_t n = term_runs.capacity() * sizeof(format::TermRun);
  for (const Segment& s : segments) {
    n += sizeof(Segment) + s.offsets.capacity() * sizeof(std::uint32_t);
  }
  return n;
}

Status read_records(const Segment& s, std::uint64_t first, std::uint64_t last,
                    std::vector<LogEntry>& out) {
  const std::uint64_t begin = s.record_offset(first);
  const std::uint64_t end = s.record_end(last);
  const auto size = static_cast<std::size_t>(end - begin);
  std::unique_ptr<char[]> data(new char[size]);  // not zero-filled: pread overwrites it
  STRATA_ASSIGN_OR_RETURN(const std::size_t n,
                          s.file->read_at(begin, std::span<char>(data.get(), size)));
  auto corruption = [&](std::uint64_t offset, std::string_view what) {
    return Status::corruption(std::string(what) + " in " + s.path + " at offset " +
                              std::to_string(offset));
  };
  if (n != size) return corruption(begin + n, "segment shorter than its index");
  const std::string_view view(data.get(), size);
  for (std::uint64_t i = first; i <= last; ++i) {
    const std::uint64_t off = s.record_offset(i) - begin;
    const char* why = nullptr;
    auto rec =
        format::parse_record(view.substr(static_cast<std::size_t>(off),
                                         static_cast<std::size_t>(s.record_end(i) - begin - off)),
                             &why);
    if (!rec) return corruption(begin + off, why);
    if (rec->index != i) return corruption(begin + off, "record index mismatch");
    out.push_back(LogEntry{rec->index, rec->term, std::string(rec->payload)});
  }
  return Status();
}

void BatchCache::add(std::uint64_t first, std::uint64_t last, std::uint64_t file_offset,
                     std::string&& bytes) {
  if (capacity_ < bytes.size()) {
    clear();
    return;
  }
  bytes_ += bytes.size();
  batches_.push_back(Batch{first, last, file_offset, std::move(bytes)});
  while (bytes_ > capacity_) pop_front();
}

std::uint64_t BatchCache::first(std::uint64_t log_first, std::uint64_t next) const {
  return batches_.empty() ? next : std::max(batches_.front().first, log_first);
}

LogEntry BatchCache::entry(const Segment& s, std::uint64_t index) const {
  auto it = std::upper_bound(batches_.begin(), batches_.end(), index,
                             [](std::uint64_t i, const Batch& b) { return i < b.first; });
  const Batch& b = *std::prev(it);
  const std::uint64_t pos = s.record_offset(index) - b.file_offset;
  const std::string_view rec = std::string_view(b.bytes).substr(static_cast<std::size_t>(pos));
  // Written by this process: no checks needed.
  const auto len = decode_be<std::uint32_t>(rec.data() + 4);
  return LogEntry{decode_be<std::uint64_t>(rec.data() + 8),
                  decode_be<std::uint64_t>(rec.data() + 16),
                  std::string(rec.substr(format::kRecordHeaderSize, len))};
}

void BatchCache::pop_front() {
  bytes_ -= batches_.front().bytes.size();
  batches_.pop_front();
}

void BatchCache::drop_through(std::uint64_t up_to) {
  while (!batches_.empty() && batches_.front().last <= up_to) pop_front();
}

void BatchCache::drop_from(std::uint64_t from) {
  while (!batches_.empty() && batches_.back().first >= from) {
    bytes_ -= batches_.back().bytes.size();
    batches_.pop_back();
  }
  if (!batches_.empty() && batches_.back().last >= from) batches_.back().last = from - 1;
}

void BatchCache::clear() {
  batches_.clear();
  bytes_ = 0;
}

std::uint64_t BatchCache::entries() const {
  std::uint64_t n = 0;
  for (const Batch& b : batches_) n += b.last + 1 - b.first;
  return n;
}

namespace {
// The slot count for `capacity` bytes: a power of two, 0 when the cache is off or too small
// for a few slots.
std::size_t slots_for(std::size_t capacity) {
  const std::size_t n = capacity / EntryCache::kBytesPerSlot;
  return n < 16 ? 0 : std::bit_floor(std::min(n, std::size_t{1} << 26));
}
}  // namespace

EntryCache::EntryCache(std::size_t capacity)
    : capacity_(capacity), slot_count_(slots_for(capacity)) {}

EntryCache::~EntryCache() {
  clear();
  std::free(slots_);
}

std::optional<LogEntry> EntryCache::find(std::uint64_t index) const {
  std::lock_guard lock(mu_);
  if (slots_ == nullptr) return std::nullopt;
  const Slot& s = slot_of(index);
  if (s.index != index) return std::nullopt;
  return entry_of(s);
}

std::size_t EntryCache::find_run(std::uint64_t first, std::uint64_t last,
                                 std::vector<LogEntry>& out) const {
  std::lock_guard lock(mu_);
  if (slots_ == nullptr || first < lo_ || first > hi_) return 0;
  std::size_t n = 0;
  // `i` stops at last + 1 <= kMaxIndex + 1: no wrap.
  for (std::uint64_t i = first; i <= last; ++i, ++n) {
    const Slot& s = slot_of(i);
    if (s.index != i) break;
    out.push_back(entry_of(s));
  }
  return n;
}

void EntryCache::add(const LogEntry& e) {
  if (slot_count_ == 0 || e.index == 0) return;
  const std::size_t table = slot_count_ * sizeof(Slot);
  if (table + e.payload.size() > capacity_) return;
  std::lock_guard lock(mu_);
  if (slots_ == nullptr) {
    // calloc: the zero pages of a large table are mapped only once written.
    slots_ = static_cast<Slot*>(std::calloc(slot_count_, sizeof(Slot)));
    if (slots_ == nullptr) return;
    bytes_ = table;
  }
  Slot& s = slot_of(e.index);
  if (s.index == e.index) return;  // another reader cached it meanwhile
  char* payload = nullptr;
  if (!e.payload.empty()) {
    payload = static_cast<char*>(std::malloc(e.payload.size()));
    if (payload == nullptr) return;  // a cache: the read itself succeeded
    std::memcpy(payload, e.payload.data(), e.payload.size());
  }
  free_slot(s);
  s = Slot{e.index, e.term, payload, e.payload.size()};
  bytes_ += s.len;
  ++entries_;
  lo_ = std::min(lo_, e.index);
  hi_ = std::max(hi_, e.index);
  // Over capacity: sweep from the hand, sparing the entry just added.
  while (bytes_ > capacity_) {
    Slot& victim = slots_[hand_];
    hand_ = (hand_ + 1) & (slot_count_ - 1);
    if (&victim != &s) free_slot(victim);
  }
}

void EntryCache::free_slot(Slot& s) noexcept {
  if (s.index == 0) return;
  bytes_ -= s.len;
  --entries_;
  std::free(s.payload);
  s = Slot{};
}

void EntryCache::drop_range(std::uint64_t lo, std::uint64_t hi) {
  std::lock_guard lock(mu_);
  lo = std::max(lo, lo_);
  hi = std::min(hi, hi_);
  if (entries_ == 0 || lo > hi) return;
  if (hi - lo < slot_count_) {
    for (std::uint64_t i = lo;; ++i) {
      if (Slot& s = slot_of(i); s.index == i) free_slot(s);
      if (i == hi) break;
    }
  } else {
    for (std::size_t n = 0; n < slot_count_; ++n) {
      if (slots_[n].index >= lo && slots_[n].index <= hi) free_slot(slots_[n]);
    }
  }
  // Nothing is cached in [lo, hi] any more: narrow the bounds past it (a purge or truncate
  // never leaves entries on both sides), so that later drops stay cheap.
  if (lo <= lo_) lo_ = hi == std::numeric_limits<std::uint64_t>::max() ? hi : hi + 1;
  if (hi >= hi_) hi_ = lo == 0 ? 0 : lo - 1;
  if (entries_ == 0 || lo_ > hi_) reset_bounds();
}

void EntryCache::drop_through(std::uint64_t up_to) { drop_range(1, up_to); }

void EntryCache::drop_from(std::uint64_t from) {
  drop_range(std::max<std::uint64_t>(from, 1), std::numeric_limits<std::uint64_t>::max());
}

void EntryCache::clear() {
  std::lock_guard lock(mu_);
  if (entries_ != 0) {
    for (std::size_t n = 0; n < slot_count_; ++n) free_slot(slots_[n]);
  }
  reset_bounds();
}

std::uint64_t EntryCache::entries() const {
  std::lock_guard lock(mu_);
  return entries_;
}

std::uint64_t EntryCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace strata::raft::detail
