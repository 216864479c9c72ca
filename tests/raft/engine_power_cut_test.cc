// StorageEngine (file backends) under power cuts: a realistic Raft workload — creating the
// engine in a fresh nested directory, hard-state saves, appends and syncs, a conflicting suffix
// truncated, a local snapshot with a purge, snapshot installs past and inside the log, replace,
// restarts — run through FaultFileSystem with a cut after every mutating operation, for every
// CrashMode (several seeds for the random ones), and checked against the promises the workload
// had been given before the cut: every acknowledged hard state and synced entry is there
// unchanged, no entry that was never appended (or was truncated) appears, the log continues the
// newest valid snapshot, an install is old-or-new, check_hard_state passes, and a second power
// cut right after the recovery open changes nothing that open served. Also: the read-only open
// of every crash state; one-shot fsync failures followed by the rest of the workload (and by a
// reopen in the same boot); cuts during the recovery open; two cuts with a resumed workload in
// between (after a power cut, and after a process death in the same boot); a growing-segment
// layout; parents the application made without fsyncing them.
//
// Each run works in a fresh directory of /dev/shm when there is one (see ScratchDir): the file
// runs in about 50 s there on two cores, and several minutes on a slow disk.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/snapshot_store_suite.h"
#include "strata/testing/temp_dir.h"

namespace strata::raft {
namespace {

using testing::crash_cut_sampled;
using testing::crash_mode_name;
using testing::crash_stride;
using testing::CrashMode;
using testing::FaultFileSystem;
using testing::FaultOp;
using testing::snapshot_suite::data_for;
using testing::snapshot_suite::meta_for;

constexpr std::size_t kPayloadBytes = 300;  // ~12 records per 4 KiB segment

// A fresh directory for one crash run, in /dev/shm when there is one and TMPDIR is not set
// (the crash states are rewritten by FaultFileSystem, so no real disk is needed, and thousands
// of runs on a slow disk would take minutes).
class ScratchDir : public testing::TempDir {
 public:
  ScratchDir() : TempDir("enginecut", Medium::kMemoryWhenAvailable) {}
};

std::string payload(std::uint64_t index, std::uint64_t term, char tag) {
  std::string p = "e" + std::to_string(index) + "t" + std::to_string(term) + tag + ":";
  p.resize(kPayloadBytes, static_cast<char>('a' + (index * 7 + term) % 26));
  return p;
}

std::vector<LogEntry> make_entries(std::uint64_t first, std::uint64_t last, std::uint64_t term,
                                   char tag) {
  std::vector<LogEntry> out;
  for (std::uint64_t i = first; i <= last; ++i) out.push_back({i, term, payload(i, term, tag)});
  return out;
}

constexpr std::size_t kSnapshotBytes = 1500;

std::string show(const std::optional<HardState>& hs) {
  if (!hs) return "none";
  return "{term " + std::to_string(hs->term) + ", vote " +
         (hs->voted_for ? std::to_string(*hs->voted_for) : std::string("-")) + ", commit " +
         std::to_string(hs->commit) + "}";
}

std::string show(const std::optional<SnapshotMeta>& m) {
  if (!m) return "none";
  return std::to_string(m->index) + "/" + std::to_string(m->term);
}

// What the workload was promised (acknowledged) and what it may see (attempted) so far.
struct Model {
  std::map<std::uint64_t, LogEntry> cur;     // the log as the engine serves it now
  std::uint64_t cur_first = 1;               // its first index
  std::uint64_t cur_boundary_term = 0;       // term(cur_first - 1)
  std::map<std::uint64_t, LogEntry> synced;  // must be there (when at or above first_index)
  std::map<std::uint64_t, std::vector<LogEntry>> allowed;  // what may be at each index
  std::uint64_t first_min = 1;  // a crash state's first index is at least this (durable boundary)
  std::uint64_t first_max = 1;  // and at most this (the furthest boundary ever asked for)
  std::optional<HardState> hs;  // acknowledged
  std::vector<HardState> hs_extra;          // saves that failed or were cut: may have landed
  std::optional<SnapshotMeta> snap;         // newest acknowledged
  std::vector<SnapshotMeta> snap_extra;     // saves/installs that failed or were cut
  std::vector<SnapshotMeta> install_extra;  // installs among them (old-or-new)
  int completed_steps = 0;                  // workload steps that returned OK
};

// The state an opened engine serves.
struct Served {
  std::optional<HardState> hs;
  std::optional<SnapshotMeta> snap;
  bool snap_data_ok = true;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::optional<std::uint64_t> boundary_term;
  std::vector<LogEntry> entries;
  EngineOpenReport report;

  bool same_as(const Served& o) const {
    return hs == o.hs && snap == o.snap && first == o.first && last == o.last &&
           boundary_term == o.boundary_term && entries == o.entries;
  }
  std::string describe() const {
    return "hs " + show(hs) + ", snapshot " + show(snap) + ", log [" + std::to_string(first) +
           ", " + std::to_string(last) + "]";
  }
};

Result<Served> read_served(StorageEngine& e) {
  Served s;
  STRATA_ASSIGN_OR_RETURN(s.hs, e.meta().load());
  STRATA_ASSIGN_OR_RETURN(std::optional<Snapshot> snap, e.snapshots().load());
  if (snap) {
    s.snap = snap->meta;
    s.snap_data_ok = snap->data == data_for(snap->meta.index, kSnapshotBytes);
  }
  s.first = e.log().first_index();
  s.last = e.log().last_index();
  STRATA_ASSIGN_OR_RETURN(s.boundary_term, e.log().term(s.first - 1));
  if (s.last >= s.first) {
    STRATA_ASSIGN_OR_RETURN(s.entries, e.log().entries(s.first, s.last));
  }
  s.report = e.open_report();
  return s;
}

// The term the served log gives `index` (entry or boundary), if it has one.
std::optional<std::uint64_t> served_term(const Served& s, std::uint64_t index) {
  if (index + 1 == s.first) return s.boundary_term;
  if (index >= s.first && index <= s.last) return s.entries[index - s.first].term;
  return std::nullopt;
}

// The promises `s` breaks, given model `m` (empty: none).
std::vector<std::string> check_promises(const Served& s, const Model& m) {
  std::vector<std::string> bad;
  const bool hs_ok = s.hs == m.hs || (s.hs && std::find(m.hs_extra.begin(), m.hs_extra.end(),
                                                        *s.hs) != m.hs_extra.end());
  if (!hs_ok) {
    bad.push_back("hard state " + show(s.hs) + " is not the acknowledged " + show(m.hs) +
                  " nor one being saved");
  }
  const bool snap_ok =
      s.snap == m.snap || (s.snap && std::find(m.snap_extra.begin(), m.snap_extra.end(), *s.snap) !=
                                         m.snap_extra.end());
  if (!snap_ok) {
    bad.push_back("newest snapshot " + show(s.snap) + " is not the acknowledged " + show(m.snap) +
                  " nor one being saved");
  }
  if (!s.snap_data_ok) bad.push_back("snapshot " + show(s.snap) + " serves wrong data");
  if (s.entries.size() != (s.last >= s.first ? s.last - s.first + 1 : 0)) {
    bad.push_back("entries() returned " + std::to_string(s.entries.size()) + " entries for [" +
                  std::to_string(s.first) + ", " + std::to_string(s.last) + "]");
    return bad;
  }
  if (s.snap) {
    const std::optional<std::uint64_t> t = served_term(s, s.snap->index);
    if (!t || *t != s.snap->term) {
      bad.push_back("the log [" + std::to_string(s.first) + ", " + std::to_string(s.last) +
                    "] does not continue snapshot " + show(s.snap) +
                    " (term there: " + (t ? std::to_string(*t) : std::string("none")) + ")");
    }
  }
  for (std::size_t k = 0; k < s.entries.size(); ++k) {
    const LogEntry& e = s.entries[k];
    auto it = m.allowed.find(e.index);
    if (it == m.allowed.end() ||
        std::find(it->second.begin(), it->second.end(), e) == it->second.end()) {
      bad.push_back("entry " + std::to_string(e.index) + " (term " + std::to_string(e.term) + ", " +
                    e.payload.substr(0, 12) + ") was never appended (or was truncated)");
      break;
    }
  }
  const bool new_install = s.snap && std::find(m.install_extra.begin(), m.install_extra.end(),
                                               *s.snap) != m.install_extra.end();
  if (new_install) return bad;  // the install landed: the old log's promises end there
  if (s.first < m.first_min) {
    bad.push_back("first index " + std::to_string(s.first) + " is below the durable boundary " +
                  std::to_string(m.first_min) + " (purged entries came back)");
  }
  if (s.first > m.first_max) {
    bad.push_back("first index " + std::to_string(s.first) + " is past every boundary asked for (" +
                  std::to_string(m.first_max) + ")");
  }
  for (const auto& [i, e] : m.synced) {
    if (i < s.first) continue;
    if (i > s.last) {
      bad.push_back("synced entry " + std::to_string(i) + " is lost (log ends at " +
                    std::to_string(s.last) + ")");
      break;
    }
    if (!(s.entries[i - s.first] == e)) {
      bad.push_back("synced entry " + std::to_string(i) + " changed");
      break;
    }
  }
  return bad;
}

// Violations grouped by kind, with the first example of each.
class Findings {
 public:
  void add(const std::string& kind, const std::string& example) {
    auto [it, fresh] = by_kind_.emplace(kind, std::make_pair(0, example));
    ++it->second.first;
  }
  bool empty() const { return by_kind_.empty(); }
  std::string str() const {
    std::ostringstream os;
    for (const auto& [kind, v] : by_kind_) {
      os << "\n  [" << v.first << "x] " << kind << "\n      e.g. " << v.second;
    }
    return os.str();
  }

 private:
  std::map<std::string, std::pair<int, std::string>> by_kind_;
};

// The workload, step by step, keeping the model up to date. A step is an engine call; the run
// stops at the first one that fails (a power cut), or goes on (fsync-failure tests).
class Workload {
 public:
  // layout 0: 4 KiB segments (rolls, whole-segment truncates), preallocated, zeros written
  // ahead; layout 1: 64 KiB segments neither preallocated nor zeroed ahead (several unsynced
  // batches in one growing file); layout 2: as 0, in parent directories the application made
  // (not durably) before the first open.
  Workload(FaultFileSystem& fs, std::string dir, int layout = 0) : fs_(fs), dir_(std::move(dir)) {
    opts_.log.fs = &fs_;
    if (layout == 0) {
      opts_.log.segment_bytes = 4096;
      opts_.log.zero_ahead_bytes = 4096;
    } else if (layout == 2) {
      opts_.log.segment_bytes = 4096;
      opts_.log.zero_ahead_bytes = 4096;
      app_made_parents_ = true;
    } else {
      opts_.log.segment_bytes = 64 << 10;
      opts_.log.preallocate = false;
      opts_.log.zero_ahead_bytes = 0;
    }
  }

  const FileEngineOptions& options() const { return opts_; }
  Model& model() { return m_; }
  std::optional<StorageEngine>& engine() { return engine_; }
  const std::string& failed_step() const { return failed_; }
  std::size_t failed_index() const { return failed_index_; }
  // Resumes after a crash: the model carries the promises made before it, the engine is opened
  // again (the served state becomes the new baseline), and steps adapt to what survived (an
  // append skips the entries the log already holds).
  Status resume_from(const Model& m) {
    m_ = m;
    adaptive_ = true;
    engine_opened_once_ = true;
    failed_.clear();
    return open();
  }
  const Status& failure() const { return failure_; }
  // Violations found when the workload reopened the engine (no crash in between).
  const std::vector<std::string>& reopen_violations() const { return reopen_bad_; }

  // Runs every step; stops at the first failure unless `keep_going`.
  void run(bool keep_going = false, std::size_t from_step = 0) {
    using W = Workload;
    const std::vector<std::pair<const char*, std::function<Status(W&)>>> steps = {
        {"open fresh (nested dirs)", [](W& w) { return w.open(); }},
        {"save hs {1,-,0}",
         [](W& w) {
           return w.save({1, std::nullopt, 0});
         }},
        {"append 1..6 t1", [](W& w) { return w.append(1, 6, 1, 'a'); }},
        {"sync 1..6", [](W& w) { return w.sync(); }},
        {"save hs {1,1,4}",
         [](W& w) {
           return w.save({1, 1, 4});
         }},
        {"append 7..20 t1 (rolls a segment)", [](W& w) { return w.append(7, 20, 1, 'a'); }},
        {"truncate 9 (conflict)", [](W& w) { return w.truncate(9); }},
        {"save hs {2,2,6}",
         [](W& w) {
           return w.save({2, 2, 6});
         }},
        {"append 9..16 t2", [](W& w) { return w.append(9, 16, 2, 'b'); }},
        {"sync 9..16", [](W& w) { return w.sync(); }},
        {"save hs {2,2,12}",
         [](W& w) {
           return w.save({2, 2, 12});
         }},
        {"local snapshot 10/2", [](W& w) { return w.save_snapshot(meta_for(10, 2)); }},
        {"purge 10", [](W& w) { return w.purge(10); }},
        {"sync purge", [](W& w) { return w.sync(); }},
        {"append 17..22 t2", [](W& w) { return w.append(17, 22, 2, 'b'); }},
        {"sync 17..22", [](W& w) { return w.sync(); }},
        {"restart", [](W& w) { return w.reopen(); }},
        {"save hs {3,1,20}",
         [](W& w) {
           return w.save({3, 1, 20});
         }},
        {"install 30/3 (past the log)", [](W& w) { return w.install(meta_for(30, 3)); }},
        {"save hs {3,1,30}",
         [](W& w) {
           return w.save({3, 1, 30});
         }},
        {"append 31..40 t3", [](W& w) { return w.append(31, 40, 3, 'c'); }},
        {"sync 31..40", [](W& w) { return w.sync(); }},
        {"append 41..44 t3", [](W& w) { return w.append(41, 44, 3, 'c'); }},
        {"install 38/3 (inside the log)", [](W& w) { return w.install(meta_for(38, 3)); }},
        {"save hs {4,2,38}",
         [](W& w) {
           return w.save({4, 2, 38});
         }},
        {"append 39..46 t4", [](W& w) { return w.append(39, 46, 4, 'd'); }},
        {"sync 39..46", [](W& w) { return w.sync(); }},
        {"truncate 43", [](W& w) { return w.truncate(43); }},
        {"append 43..48 t4 again", [](W& w) { return w.append(43, 48, 4, 'e'); }},
        {"close", [](W& w) { return w.close(); }},
        {"restart again", [](W& w) { return w.reopen(); }},
        {"append 49..50 t4", [](W& w) { return w.append(49, 50, 4, 'e'); }},
        {"sync 49..50", [](W& w) { return w.sync(); }},
        {"purge 38", [](W& w) { return w.purge(38); }},
        {"sync purge 38", [](W& w) { return w.sync(); }},
        {"save hs {5,3,44}",
         [](W& w) {
           return w.save({5, 3, 44});
         }},
        {"replace 47.. with 47..49 t5", [](W& w) { return w.replace(47, 49, 5, 'f'); }},
        {"sync 47..49", [](W& w) { return w.sync(); }},
    };
    for (std::size_t i = from_step; i < steps.size(); ++i) {
      const auto& [name, fn] = steps[i];
      Status s = fn(*this);
      if (s.ok()) ++m_.completed_steps;
      if (!s.ok() && failed_.empty()) {
        failed_ = name;
        failed_index_ = i;
        failure_ = s;
      }
      if (!s.ok() && !keep_going) return;
    }
  }

 private:
  Status need_engine() const {
    return engine_ ? Status() : Status::aborted("no engine (its open failed)");
  }

  Status open() {
    if (app_made_parents_ && !engine_opened_once_) {
      // The application made the parent directories itself, without fsyncing anything.
      STRATA_RETURN_IF_ERROR(fs_.create_dirs(dir_.substr(0, dir_.rfind('/'))));
    }
    engine_opened_once_ = true;
    auto e = StorageEngine::open_file(dir_, opts_);
    if (!e) return e.error();
    engine_.emplace(std::move(*e));
    // Reopened without a crash: it serves what this boot sees, and makes it durable.
    auto served = read_served(*engine_);
    if (!served) return served.error();
    for (std::string& v : check_promises(*served, m_)) reopen_bad_.push_back(std::move(v));
    m_.cur.clear();
    for (const LogEntry& e2 : served->entries) m_.cur[e2.index] = e2;
    m_.cur_first = served->first;
    m_.cur_boundary_term = served->boundary_term.value_or(0);
    m_.synced = m_.cur;
    m_.first_min = std::max(m_.first_min, served->first);
    m_.first_max = std::max(m_.first_max, served->first);
    m_.hs = served->hs;
    m_.snap = served->snap;
    return Status();
  }
  Status reopen() {
    engine_.reset();  // a process restart: no I/O, nothing more synced
    return open();
  }
  // The highest index known synced (a Raft node never claims a commit past it).
  std::uint64_t synced_last() const {
    return m_.synced.empty() ? m_.first_min - 1 : m_.synced.rbegin()->first;
  }
  Status save(HardState hs) {
    STRATA_RETURN_IF_ERROR(need_engine());
    if (adaptive_ && hs.commit > synced_last()) {
      // Resumed after a crash that took entries this step's commit counted on: the node
      // commits what its log holds (never less than it already saved).
      hs.commit = std::max(synced_last(), m_.hs ? m_.hs->commit : 0);
    }
    if (hs.commit > synced_last()) {
      return Status::aborted("a Raft node would not save commit " + std::to_string(hs.commit) +
                             ": its log is synced only up to " + std::to_string(synced_last()));
    }
    Status s = engine_->meta().save(hs);
    if (s.ok()) {
      m_.hs = hs;
    } else {
      m_.hs_extra.push_back(hs);
    }
    return s;
  }
  Status append(std::uint64_t first, std::uint64_t last, std::uint64_t term, char tag) {
    STRATA_RETURN_IF_ERROR(need_engine());
    if (!m_.hs || m_.hs->term < term) {
      return Status::aborted("a Raft node would not append entries of term " +
                             std::to_string(term) + " before saving that term");
    }
    if (adaptive_ && engine_->log().last_index() < last) {
      // The rest of a batch a crash cut short, or, when a crash took entries of earlier steps,
      // the gap from the log's end filled with this step's entries (as a leader would resend).
      first = engine_->log().last_index() + 1;
    }
    const std::vector<LogEntry> es = make_entries(first, last, term, tag);
    for (const LogEntry& e : es) m_.allowed[e.index].push_back(e);
    Status s = engine_->log().append(es);
    if (s.ok()) {
      for (const LogEntry& e : es) m_.cur[e.index] = e;
    }
    return s;
  }
  void synced_now() {
    m_.synced.clear();
    for (const auto& [i, e] : m_.cur) {
      if (i >= m_.cur_first) m_.synced[i] = e;
    }
    m_.first_min = std::max(m_.first_min, m_.cur_first);
  }
  Status sync() {
    STRATA_RETURN_IF_ERROR(need_engine());
    Status s = engine_->log().sync();
    if (s.ok()) synced_now();
    return s;
  }
  Status close() {
    STRATA_RETURN_IF_ERROR(need_engine());
    Status s = engine_->log().close();
    if (s.ok()) synced_now();
    return s;
  }
  Status purge(std::uint64_t up_to) {
    STRATA_RETURN_IF_ERROR(need_engine());
    if (adaptive_ && (!m_.snap || m_.snap->index < up_to)) {
      // Resumed after a crash that took entries (and so the snapshot this purge relied on):
      // purge what the snapshot the node has covers, if any.
      if (!m_.snap || m_.snap->index < engine_->log().first_index()) return Status();
      up_to = m_.snap->index;
    }
    if (!m_.snap || m_.snap->index < up_to) {
      return Status::aborted("a Raft node purges only what a snapshot covers");
    }
    m_.first_max = std::max(m_.first_max, up_to + 1);
    m_.synced.erase(m_.synced.begin(), m_.synced.upper_bound(up_to));
    Status s = engine_->log().purge(up_to);
    if (s.ok() && up_to >= m_.cur_first) {
      if (auto it = m_.cur.find(up_to); it != m_.cur.end()) m_.cur_boundary_term = it->second.term;
      m_.cur.erase(m_.cur.begin(), m_.cur.upper_bound(up_to));
      m_.cur_first = up_to + 1;
    }
    return s;
  }
  Status truncate(std::uint64_t from) {
    STRATA_RETURN_IF_ERROR(need_engine());
    m_.synced.erase(m_.synced.lower_bound(from), m_.synced.end());
    Status s = engine_->log().truncate(from);
    if (s.ok()) {
      m_.cur.erase(m_.cur.lower_bound(from), m_.cur.end());
      m_.allowed.erase(m_.allowed.lower_bound(from), m_.allowed.end());
    }
    return s;
  }
  // replace(from, entries from..last of `term`): the follower's conflict resolution.
  Status replace(std::uint64_t from, std::uint64_t last, std::uint64_t term, char tag) {
    STRATA_RETURN_IF_ERROR(need_engine());
    if (!m_.hs || m_.hs->term < term) {
      return Status::aborted("a Raft node would not append entries of term " +
                             std::to_string(term) + " before saving that term");
    }
    const std::vector<LogEntry> es = make_entries(from, last, term, tag);
    m_.synced.erase(m_.synced.lower_bound(from), m_.synced.end());
    for (const LogEntry& e : es) m_.allowed[e.index].push_back(e);
    Status s = engine_->log().replace(from, es);
    if (s.ok()) {
      m_.cur.erase(m_.cur.lower_bound(from), m_.cur.end());
      m_.allowed.erase(m_.allowed.lower_bound(from), m_.allowed.end());
      for (const LogEntry& e : es) {
        m_.cur[e.index] = e;
        m_.allowed[e.index].push_back(e);
      }
    }
    return s;
  }
  Status save_snapshot(SnapshotMeta meta) {
    STRATA_RETURN_IF_ERROR(need_engine());
    if (adaptive_ && m_.hs && m_.hs->commit < meta.index) {
      // Resumed after a crash that took entries: the node snapshots what it knows committed,
      // if that is past its last snapshot and still in its log.
      const std::uint64_t at = m_.hs->commit;
      auto term = engine_->log().term(at);
      if (!term || !term->has_value() || at < engine_->log().first_index() ||
          (m_.snap && m_.snap->index >= at)) {
        return Status();  // nothing new to snapshot
      }
      meta = meta_for(at, **term);
    }
    if (!m_.hs || m_.hs->commit < meta.index) {
      return Status::aborted("a Raft node snapshots only what it knows committed");
    }
    Status s = engine_->snapshots().save(meta, data_for(meta.index, kSnapshotBytes));
    if (s.ok()) {
      m_.snap = meta;
    } else {
      m_.snap_extra.push_back(meta);
    }
    return s;
  }
  Status install(const SnapshotMeta& meta) {
    STRATA_RETURN_IF_ERROR(need_engine());
    Status s = engine_->install_snapshot(meta, data_for(meta.index, kSnapshotBytes));
    if (s.ok()) {
      m_.snap = meta;
      m_.cur.clear();
      m_.synced.clear();
      m_.allowed.clear();
      m_.cur_first = m_.first_min = meta.index + 1;
      m_.first_max = std::max(m_.first_max, meta.index + 1);
      m_.cur_boundary_term = meta.term;
    } else {
      m_.snap_extra.push_back(meta);
      m_.install_extra.push_back(meta);
      m_.first_max = std::max(m_.first_max, meta.index + 1);
    }
    return s;
  }

  FaultFileSystem& fs_;
  std::string dir_;
  bool app_made_parents_ = false;
  bool engine_opened_once_ = false;
  FileEngineOptions opts_;
  std::optional<StorageEngine> engine_;
  Model m_;
  std::string failed_;
  std::size_t failed_index_ = 0;
  Status failure_;
  bool adaptive_ = false;
  std::vector<std::string> reopen_bad_;
};

// The mutating operations of the whole workload (no fault).
std::uint64_t workload_ops(int layout = 0) {
  ScratchDir tmp;
  FaultFileSystem fs(1);
  Workload w(fs, tmp.file("a/b/node"), layout);
  w.run();
  EXPECT_TRUE(w.failed_step().empty()) << w.failed_step() << ": " << w.failure();
  EXPECT_TRUE(w.reopen_violations().empty());
  const std::uint64_t n = fs.total_ops();
  w.engine().reset();
  return n;
}

struct CrashSpec {
  CrashMode mode;
  std::uint64_t seed;
};

std::vector<CrashSpec> crash_specs(int random_seeds) {
  std::vector<CrashSpec> out = {{CrashMode::kDropUnsynced, 1}, {CrashMode::kKeepUnsynced, 1}};
  for (CrashMode m : {CrashMode::kRandomSubset, CrashMode::kTearLast, CrashMode::kRandomTorn,
                      CrashMode::kRandom}) {
    for (int s = 0; s < random_seeds; ++s) {
      out.push_back({m, 1000 + 7919 * static_cast<std::uint64_t>(s)});
    }
  }
  return out;
}

// What one crash state produced.
struct CrashOutcome {
  std::string where;  // "cut N mode M seed S, step X"
  Model model;
  std::string failed_step;
};

// Runs the workload with a cut after `cut` operations (or a fault armed by `arm`), crashes the
// machine with `spec`, and hands the crash state to `check`.
template <class Check>
void run_crash(std::uint64_t cut, const CrashSpec& spec, bool keep_going,
               const std::function<void(FaultFileSystem&)>& arm, Check&& check, int layout = 0) {
  ScratchDir tmp;
  const std::string dir = tmp.file("a/b/node");
  FaultFileSystem fs(spec.seed * 1000003 + cut);
  fs.set_failed_sync_loses_writes(true);
  Model model;
  std::string where;
  {
    Workload w(fs, dir, layout);
    if (arm) {
      arm(fs);
    } else {
      fs.fail_after(cut);
    }
    w.run(keep_going);
    where = "cut " + std::to_string(cut) + " mode " + crash_mode_name(spec.mode) + " seed " +
            std::to_string(spec.seed) + ", failed step '" +
            (w.failed_step().empty() ? std::string("none") : w.failed_step()) + "'";
    if (!w.failed_step().empty()) where += " (" + w.failure().to_string() + ")";
    for (const std::string& v : w.reopen_violations()) {
      check.reopen_violation(where, v);
    }
    model = w.model();
    fs.crash(spec.mode);  // kills every handle the engine holds
  }
  check(fs, dir, model, where);
}

// Which of the engine's parts a crash state lacks, e.g. "missing snap/, meta/{left,right}".
std::string missing_parts(const std::string& dir) {
  std::string out;
  for (const char* p : {"STRATA", "log", "log/STRATA", "log/purge", "log/purge/left", "meta",
                        "meta/STRATA", "meta/left", "meta/right", "snap", "snap/STRATA"}) {
    if (!FileSystem::posix().exists(dir + "/" + p).value_or(false)) {
      out += out.empty() ? "missing " : ", ";
      out += p;
    }
  }
  return out.empty() ? "nothing missing" : out;
}

// Checks a crash state: a read-only open, the writable open (through the FaultFileSystem), the
// promises, then a second power cut and a plain reopen that must serve the same.
struct StateChecker {
  Findings& writable;
  Findings* read_only = nullptr;  // null: not checked
  bool double_crash = true;
  FileEngineOptions base;

  void reopen_violation(const std::string& where, const std::string& v) {
    writable.add("restart without a crash served a broken state: " + v.substr(0, 40),
                 where + ": " + v);
  }

  void operator()(FaultFileSystem& fs, const std::string& dir, const Model& m,
                  const std::string& where) {
    FileEngineOptions ro = base;
    ro.log.fs = nullptr;
    ro.read_only = true;
    std::optional<Result<Served>> ro_served;
    Status ro_status;
    bool ro_pending = false;
    const bool dir_existed = FileSystem::posix().exists(dir).value_or(false);
    const std::string missing = missing_parts(dir);  // before the writable open repairs it
    if (read_only != nullptr) {
      auto e = StorageEngine::open_file(dir, ro);
      if (!e) {
        ro_status = e.error();
      } else {
        ro_served = read_served(*e);
        ro_pending = e->open_report().install_pending;
      }
    }
    FileEngineOptions rw = base;
    rw.log.fs = &fs;
    Served first;
    {
      auto e = StorageEngine::open_file(dir, rw);
      if (!e) {
        writable.add("open after the crash failed: " + std::string(to_string(e.error().code())),
                     where + ": " + e.error().to_string());
        return;
      }
      auto s = read_served(*e);
      if (!s) {
        writable.add("reading the reopened engine failed", where + ": " + s.error().to_string());
        return;
      }
      first = *s;
      for (const std::string& v : check_promises(first, m)) {
        writable.add(v.substr(0, v.find_first_of("0123456789")), where + ": " + v);
      }
      if (Status c = e->check_hard_state(); !c.ok()) {
        writable.add("check_hard_state failed after open", where + ": " + c.to_string());
      }
      if (read_only != nullptr) {
        if (!ro_served && !dir_existed) {
          // Nothing to open read-only: the crash took the whole engine (documented not_found).
        } else if (!ro_served) {
          read_only->add("read-only open failed where the writable open succeeded: " +
                             std::string(to_string(ro_status.code())) + ", " + missing +
                             "; workload " +
                             (m.completed_steps == 0 ? "cut inside the first open (creation)"
                                                     : "past the creation"),
                         where + ": " + ro_status.to_string() + " (writable open served " +
                             first.describe() + ")");
        } else if (!*ro_served) {
          read_only->add("reading the read-only engine failed",
                         where + ": " + ro_served->error().to_string());
        } else if (ro_pending) {
          if ((*ro_served)->hs != first.hs || (*ro_served)->snap != first.snap) {
            read_only->add("read-only open (install pending) serves another hard state/snapshot",
                           where + ": read-only " + (*ro_served)->describe() + ", writable " +
                               first.describe());
          }
        } else if (!(*ro_served)->same_as(first)) {
          read_only->add(
              "read-only open serves another state than the writable open",
              where + ": read-only " + (*ro_served)->describe() + ", writable " + first.describe());
        }
      }
      // No close: the engine dies with the next power cut.
      if (double_crash) fs.crash(CrashMode::kRandom);
    }
    if (!double_crash) return;
    // Through the same FaultFileSystem (its model starts afresh after a crash): no real fsync.
    auto e = StorageEngine::open_file(dir, rw);
    if (!e) {
      writable.add(
          "open after a second power cut (after a good open) failed",
          where + ": " + e.error().to_string() + " (first open served " + first.describe() + ")");
      return;
    }
    auto s = read_served(*e);
    if (!s) {
      writable.add("reading after the second power cut failed",
                   where + ": " + s.error().to_string());
      return;
    }
    if (!s->same_as(first)) {
      writable.add(
          "a power cut right after open changed what open served",
          where + ": first open " + first.describe() + ", after the second cut " + s->describe());
    }
  }
};

// The mutating operations of the engine's first open (its creation) in a fresh nested directory.
std::uint64_t creation_ops() {
  ScratchDir tmp;
  FaultFileSystem fs(1);
  FileEngineOptions o = Workload(fs, tmp.file("a/b/node")).options();
  auto e = StorageEngine::open_file(tmp.file("a/b/node"), o);
  EXPECT_TRUE(e.has_value());
  return fs.total_ops();
}

// Cuts after `from` .. `to` operations (to = ~0: the whole workload).
void sweep(const std::vector<CrashSpec>& specs, Findings& writable, Findings* read_only,
           int layout = 0, std::uint64_t from = 0, std::uint64_t to = ~std::uint64_t{0}) {
  const std::uint64_t total = workload_ops(layout);
  ASSERT_GT(total, 100u);
  std::printf("the workload makes %llu mutating operations\n",
              static_cast<unsigned long long>(total));
  ScratchDir tmp;
  FaultFileSystem probe(1);
  Workload w(probe, tmp.file("x"), layout);
  StateChecker checker{writable, read_only, true, w.options()};
  const std::uint64_t last = std::min(total, to);
  for (std::uint64_t cut = from; cut <= last; ++cut) {
    if (!crash_cut_sampled(cut - from, last - from)) continue;
    for (const CrashSpec& spec : specs) run_crash(cut, spec, false, nullptr, checker, layout);
  }
}

class EnginePowerCut : public ::testing::TestWithParam<CrashMode> {};

// A power cut after every mutating operation of the workload, in one crash mode (seeds for the
// random ones), then the writable open: every promise kept, and a second cut right after the
// open changes nothing it served.
TEST_P(EnginePowerCut, EveryCutKeepsEveryPromise) {
  std::vector<CrashSpec> specs;
  for (const CrashSpec& s : crash_specs(2)) {
    if (s.mode == GetParam()) specs.push_back(s);
  }
  Findings writable;
  sweep(specs, writable, nullptr);
  EXPECT_TRUE(writable.empty()) << writable.str();
}

INSTANTIATE_TEST_SUITE_P(Modes, EnginePowerCut,
                         ::testing::Values(CrashMode::kDropUnsynced, CrashMode::kKeepUnsynced,
                                           CrashMode::kRandomSubset, CrashMode::kTearLast,
                                           CrashMode::kRandomTorn, CrashMode::kRandom),
                         [](const ::testing::TestParamInfo<CrashMode>& p) {
                           return std::string(crash_mode_name(p.param));
                         });

// The same with 64 KiB segments, neither preallocated nor zeroed ahead: several unsynced
// batches in one growing segment, torn in any subset of their sectors.
TEST(EnginePowerCutGrowingSegments, EveryCutKeepsEveryPromise) {
  Findings writable;
  sweep({{CrashMode::kRandomTorn, 11}, {CrashMode::kRandom, 12}, {CrashMode::kTearLast, 13}},
        writable, nullptr, 1);
  EXPECT_TRUE(writable.empty()) << writable.str();
}

// Parent directories the application made without fsyncing them: the engine's creation must
// make their entries durable before it relies on them.
TEST(EnginePowerCutAppMadeParents, EveryCutKeepsEveryPromise) {
  Findings writable;
  sweep({{CrashMode::kDropUnsynced, 1}, {CrashMode::kRandom, 21}}, writable, nullptr, 2);
  EXPECT_TRUE(writable.empty()) << writable.str();
}

const std::vector<CrashSpec> kReadOnlySpecs = {
    {CrashMode::kDropUnsynced, 1}, {CrashMode::kKeepUnsynced, 1}, {CrashMode::kRandom, 5}};

// The read-only open of every crash state after the engine's creation succeeds wherever the
// writable open does, and serves the same (or, for an install a crash interrupted, the same hard
// state and snapshot, with install_pending).
TEST(EnginePowerCutReadOnly, OpensEveryCrashStateAfterCreationLikeTheWritableOpen) {
  Findings writable, read_only;
  sweep(kReadOnlySpecs, writable, &read_only, 0, creation_ops());
  EXPECT_TRUE(read_only.empty()) << read_only.str();
  EXPECT_TRUE(writable.empty()) << writable.str();
}

// One-shot fsync failures (File::sync or sync_dir, the k-th of the workload), with failed
// fdatasyncs losing their writes as Linux may; the workload goes on (its later writes are
// refused or acknowledged), then a power cut: nothing acknowledged — before or after the
// failure — may be lost.
void failed_sync_sweep(FaultOp op, Findings& writable) {
  ScratchDir tmp;
  FaultFileSystem counter(1);
  {
    Workload w(counter, tmp.file("a/b/node"));
    w.run();
  }
  const std::uint64_t n = counter.op_count(op);
  ASSERT_GT(n, 5u);
  ScratchDir tmp2;
  FaultFileSystem probe(1);
  Workload w(probe, tmp2.file("x"));
  StateChecker checker{writable, nullptr, true, w.options()};
  for (std::uint64_t k = 1; k <= n; ++k) {
    if (!crash_cut_sampled(k - 1, n - 1)) continue;
    for (const CrashSpec& spec : crash_specs(2)) {
      run_crash(
          k, spec, true, [&](FaultFileSystem& fs) { fs.fail_nth(op, k); }, checker);
    }
    // The same, but the process dies after the workload and a new one opens the engine in the
    // same boot (the pages a failed fdatasync dropped are still visible to it) before the power
    // cut: what that open serves must survive the cut.
    ScratchDir t;
    const std::string dir = t.file("a/b/node");
    FaultFileSystem fs(k * 31 + 5);
    fs.set_failed_sync_loses_writes(true);
    Model model;
    std::string where = std::string(op == FaultOp::kSync ? "fdatasync" : "sync_dir") + " #" +
                        std::to_string(k) + " failed";
    {
      Workload first(fs, dir);
      fs.fail_nth(op, k);
      first.run(true);
      if (!first.failed_step().empty()) {
        where += " (first failed step '" + first.failed_step() +
                 "': " + first.failure().to_string() + ")";
      }
      model = first.model();
    }
    fs.clear_faults();
    {
      Workload second(fs, dir);
      if (Status s = second.resume_from(model); !s.ok()) {
        writable.add("a reopen in the same boot after a failed fsync failed",
                     where + ": " + s.to_string());
        continue;
      }
      for (const std::string& v : second.reopen_violations()) {
        writable.add(
            "a reopen in the same boot after a failed fsync broke a promise: " + v.substr(0, 30),
            where + ": " + v);
      }
      model = second.model();
      fs.crash(CrashMode::kRandom);
    }
    checker(fs, dir, model, where + ", reopened in the same boot, then a power cut");
  }
}

TEST(EnginePowerCutFailedSync, FailedFdatasyncThenMoreWritesLosesNothingAcknowledged) {
  Findings writable;
  failed_sync_sweep(FaultOp::kSync, writable);
  EXPECT_TRUE(writable.empty()) << writable.str();
}

TEST(EnginePowerCutFailedSync, FailedDirectoryFsyncThenMoreWritesLosesNothingAcknowledged) {
  Findings writable;
  failed_sync_sweep(FaultOp::kSyncDir, writable);
  EXPECT_TRUE(writable.empty()) << writable.str();
}

// The workload stops at every cut point — by a power cut (kRandom), or by the death of the
// process alone (nothing is lost: the next open, in the same boot, sees every unsynced write and
// rename) — the engine is opened again, which must make what it serves durable, the workload
// resumes at the step that was interrupted and is cut again further on, and the machine crashes
// (kRandom): every promise made before either cut holds, including what the reopen served.
void resume_sweep(bool power_cut_first, Findings& writable) {
  const std::uint64_t total = workload_ops();
  ScratchDir probe_dir;
  FaultFileSystem probe(1);
  StateChecker checker{writable, nullptr, true, Workload(probe, probe_dir.file("x")).options()};
  std::mt19937_64 rng(power_cut_first ? 20261206 : 6021);
  std::uint64_t resumed = 0, tried = 0;
  for (std::uint64_t cut = 0; cut <= total; ++cut) {
    if (!crash_cut_sampled(cut, total)) continue;
    ++tried;
    for (int round = 0; round < 2; ++round) {
      ScratchDir tmp;
      const std::string dir = tmp.file("a/b/node");
      FaultFileSystem fs(cut * 7 + static_cast<std::uint64_t>(round));
      // A dying process issues no fsync that could fail: the operation the cut refuses simply
      // never happened. (A failed fdatasync whose repair could not run either is the documented
      // best-effort limit of the log and Metadata, not tested here.)
      fs.set_failed_sync_loses_writes(power_cut_first);
      Model model;
      std::size_t from = 0;
      std::string where = "first cut " + std::to_string(cut);
      {
        Workload w(fs, dir);
        fs.fail_after(cut);
        w.run();
        if (w.failed_step().empty()) break;                 // no cut: nothing to resume
        from = std::max<std::size_t>(w.failed_index(), 1);  // resume_from() opens
        where += " (step '" + w.failed_step() + "': " + w.failure().to_string() + ", " +
                 (power_cut_first ? "power cut" : "process death") + ")";
        model = w.model();
      }  // the engine dies with the process
      if (power_cut_first) {
        fs.crash(CrashMode::kRandom);
      } else {
        fs.clear_faults();  // the same boot: the model keeps every unsynced change
      }
      const std::uint64_t second = rng() % 120;
      where += ", second cut " + std::to_string(second) + " after resuming";
      {
        Workload w(fs, dir);
        if (Status s = w.resume_from(model); !s.ok()) {
          writable.add("open after the first cut failed", where + ": " + s.to_string());
          continue;
        }
        for (const std::string& v : w.reopen_violations()) {
          writable.add("the open after the first cut broke a promise: " + v.substr(0, 30),
                       where + ": " + v);
        }
        ++resumed;
        fs.fail_after(second);
        w.run(false, from);
        if (!w.failed_step().empty()) {
          where += " (step '" + w.failed_step() + "': " + w.failure().to_string() + ")";
          // Only the second cut may stop the resumed workload: else the round tests less than
          // it says (the cut never falls), and the workload broke on what the first cut left.
          if (!fs.power_cut()) {
            writable.add("the resumed workload failed before the second cut, at '" +
                             w.failed_step() + "': " + w.failure().to_string().substr(0, 40),
                         where);
          }
        }
        model = w.model();
        fs.crash(CrashMode::kRandom);
      }
      checker(fs, dir, model, where);
    }
  }
  EXPECT_GT(resumed, tried);  // of 2 * tried rounds
}

TEST(EnginePowerCutTwice, ResumingAfterAPowerCutAndCuttingAgainKeepsEveryPromise) {
  Findings writable;
  resume_sweep(true, writable);
  EXPECT_TRUE(writable.empty()) << writable.str();
}

TEST(EnginePowerCutTwice, ResumingAfterAProcessDeathAndCuttingAgainKeepsEveryPromise) {
  Findings writable;
  resume_sweep(false, writable);
  EXPECT_TRUE(writable.empty()) << writable.str();
}

// A power cut during the recovery open itself: each crash state of the workload (kRandom) is
// opened with a cut after every operation of that open (finishing an install, cutting a torn
// tail, removing leftovers, creating what a cut creation left out), crashed again and opened:
// the promises of the workload still hold.
TEST(EnginePowerCutRecovery, ACutDuringTheRecoveryOpenKeepsEveryPromise) {
  const std::uint64_t total = workload_ops();
  Findings writable;
  for (std::uint64_t cut = 0; cut <= total; cut += 2 * crash_stride()) {  // every other: time
    ScratchDir tmp;
    const std::string dir = tmp.file("a/b/node");
    const std::string saved = tmp.file("saved");
    Model model;
    std::string where;
    {
      FaultFileSystem fs(cut + 17);
      fs.set_failed_sync_loses_writes(true);
      Workload w(fs, dir);
      fs.fail_after(cut);
      w.run();
      model = w.model();
      where = "cut " + std::to_string(cut) + " (step '" + w.failed_step() + "')";
      fs.crash(CrashMode::kRandom);
    }
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) continue;
    std::filesystem::copy(tmp.file("a"), saved, std::filesystem::copy_options::recursive, ec);
    ASSERT_FALSE(ec) << ec.message();
    // The operations of a whole recovery open of this state.
    std::uint64_t open_ops = 0;
    {
      FaultFileSystem fs(1);
      FileEngineOptions o = Workload(fs, dir).options();
      o.log.fs = &fs;
      auto e = StorageEngine::open_file(dir, o);
      open_ops = fs.total_ops();
    }
    for (std::uint64_t j = 0; j < open_ops; ++j) {
      std::filesystem::remove_all(tmp.file("a"), ec);
      std::filesystem::copy(saved, tmp.file("a"), std::filesystem::copy_options::recursive, ec);
      ASSERT_FALSE(ec) << ec.message();
      FaultFileSystem fs(cut * 131 + j);
      FileEngineOptions o = Workload(fs, dir).options();
      o.log.fs = &fs;
      {
        fs.fail_after(j);
        auto e = StorageEngine::open_file(dir, o);
        fs.crash(CrashMode::kRandom);
      }
      StateChecker checker{writable, nullptr, true, o};
      checker(fs, dir, model,
              where + ", recovery open cut after " + std::to_string(j) + " of " +
                  std::to_string(open_ops) + " operations");
    }
  }
  EXPECT_TRUE(writable.empty()) << writable.str();
}

// Not crash states: two installs that would leave an engine whose next open refuses with
// corruption (check_hard_state) are refused up front with invalid_argument, and change nothing
// (a Raft engine makes neither call: a node saves its term before acting on a leader's message,
// and ignores a snapshot its log covers up to the commit index).

// With no hard state ever saved, the reset would move the log past index 0 without one (the next
// open: "the log holds entries up to 20 (first index 21) but no hard state was ever saved").
TEST(EngineInstallGuards, AnInstallBeforeAnyHardStateIsRefused) {
  ScratchDir t;
  {
    auto e = StorageEngine::open_file(t.file("n"));
    ASSERT_TRUE(e.has_value()) << e.error();
    const Status s = e->install_snapshot(meta_for(20, 1), data_for(20, kSnapshotBytes));
    EXPECT_TRUE(s.is_invalid_argument()) << s;
    EXPECT_EQ(e->log().first_index(), 1u);
    auto list = e->snapshots().list();
    ASSERT_TRUE(list.has_value()) << list.error();
    EXPECT_TRUE(list->empty());
  }
  auto e = StorageEngine::open_file(t.file("n"));
  ASSERT_TRUE(e.has_value()) << e.error();
  EXPECT_EQ(e->log().first_index(), 1u);
  EXPECT_EQ(e->open_report().snapshot_index, 0u);
}

// At index 20 over a log 1..30 whose saved commit is 25, the reset would drop the committed
// entries 21..25 (the next open: "the hard state's commit index 25 is past the log's last index
// 20"). At the commit index itself the install goes through.
TEST(EngineInstallGuards, AnInstallBelowTheCommitIndexIsRefused) {
  ScratchDir t;
  {
    auto e = StorageEngine::open_file(t.file("n"));
    ASSERT_TRUE(e.has_value()) << e.error();
    ASSERT_TRUE(e->meta().save({1, 1, 0}).ok());
    ASSERT_TRUE(e->log().append(make_entries(1, 30, 1, 'a')).ok());
    ASSERT_TRUE(e->log().sync().ok());
    ASSERT_TRUE(e->meta().save({1, 1, 25}).ok());
    const Status s = e->install_snapshot(meta_for(20, 1), data_for(20, kSnapshotBytes));
    EXPECT_TRUE(s.is_invalid_argument()) << s;
    EXPECT_EQ(e->log().first_index(), 1u);
    EXPECT_EQ(e->log().last_index(), 30u);
  }
  {
    auto e = StorageEngine::open_file(t.file("n"));
    ASSERT_TRUE(e.has_value()) << e.error();
    EXPECT_EQ(e->log().last_index(), 30u);
    EXPECT_EQ(e->open_report().snapshot_index, 0u);
    EXPECT_TRUE(e->install_snapshot(meta_for(25, 1), data_for(25, kSnapshotBytes)).ok());
  }
  auto e = StorageEngine::open_file(t.file("n"));
  ASSERT_TRUE(e.has_value()) << e.error();
  EXPECT_EQ(e->open_report().snapshot_index, 25u);
  EXPECT_EQ(e->log().first_index(), 26u);
}

}  // namespace
}  // namespace strata::raft
