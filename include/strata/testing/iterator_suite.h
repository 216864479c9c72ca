// strata/testing/iterator_suite.h — IteratorSuite: LevelDB's and RocksDB's iterator tests
// (leveldb db/db_test.cc, rocksdb db/db_iterator_test.cc and
// utilities/write_batch_with_index/write_batch_with_index_test.cc) ported to strata's read API,
// and a randomized model-based test of every read against a std::map.
//
// Every scenario runs through every view a store has (IterView): the store itself, a snapshot
// (the store changed after it was taken), and an indexed batch (strata/store/indexed_batch.h)
// holding all of the writes, half of them over a store holding the other half, or all of them
// over a store full of stale values and ghost keys the batch erases. A RocksDB-style iterator
// that moves both ways (Next/Prev after Seek/SeekForPrev) is emulated by IterCursor over a
// forward and a reverse range of the view, each made once: a step in the direction of the last
// one is ++ on its range, a change of direction a seek of the other range.
//
// Instantiate both suites with the factory of strata/testing/store_fixture.h (the store must
// be a RangeReadStore):
//
//   namespace strata::testing {
//   INSTANTIATE_TYPED_TEST_SUITE_P(Mine, IteratorSuite, MyFactory);
//   INSTANTIATE_TYPED_TEST_SUITE_P(Mine, IteratorModelSuite, MyFactory);
//   }
//
// Thread-safety: GoogleTest runs the tests one at a time.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <ranges>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/store/concepts.h"
#include "strata/store/indexed_batch.h"
#include "strata/store/key_range.h"
#include "strata/testing/fuzz.h"
#include "strata/testing/store_fixture.h"

namespace strata::testing {

// ---- scenario writes and the model -------------------------------------------------------

// One write of a scenario (kFlush: the store's flush() where it has one, else nothing).
struct IterOp {
  enum class Kind : std::uint8_t { kPut, kErase, kFlush };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;
};
inline IterOp put_op(std::string_view key, std::string_view value) {
  return {IterOp::Kind::kPut, std::string(key), std::string(value)};
}
inline IterOp erase_op(std::string_view key) {
  return {IterOp::Kind::kErase, std::string(key), {}};
}
inline IterOp flush_op() { return {IterOp::Kind::kFlush, {}, {}}; }

using IterModel = std::map<std::string, std::string>;

inline IterModel model_of(const std::vector<IterOp>& ops) {
  IterModel m;
  for (const IterOp& op : ops) {
    if (op.kind == IterOp::Kind::kPut) m[op.key] = op.value;
    if (op.kind == IterOp::Kind::kErase) m.erase(op.key);
  }
  return m;
}

// A key with its bytes outside [0x20, 0x7e] written as \xNN, for messages.
inline std::string printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u <= 0x7e && c != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}
inline std::string printable(const KeyBounds& b) {
  return "[\"" + printable(b.lower) + "\", " +
         (b.upper ? "\"" + printable(*b.upper) + "\")" : std::string("end)"));
}
inline std::string printable(const KeyValues& kvs) {
  std::string out = "{";
  for (const auto& [k, v] : kvs) out += " \"" + printable(k) + "\"->\"" + printable(v) + "\"";
  return out + " }";
}

// What a scan of `m` over `bounds` in `order` yields, from begin() or, with `seek`, from
// seek(*seek) (forward: the first key >= it; reverse: the last key <= it).
inline KeyValues expected_scan(const IterModel& m, const KeyBounds& bounds, ScanOrder order,
                               const std::optional<std::string>& seek = std::nullopt) {
  KeyValues out;
  for (const auto& [k, v] : m) {
    if (!bounds.contains(k)) continue;
    if (seek && (order == ScanOrder::kForward ? k < *seek : k > *seek)) continue;
    out.emplace_back(k, v);
  }
  if (order == ScanOrder::kReverse) std::reverse(out.begin(), out.end());
  return out;
}

// ---- a two-way cursor over a view --------------------------------------------------------

// LevelDB's Iterator (SeekToFirst, SeekToLast, Seek, SeekForPrev, Next, Prev) over a reader's
// range_iter; status() renders the position as LevelDB's tests do ("key->value" or
// "(invalid)"). Both ranges are made by the constructor: one point in time.
template <class Reader>
class IterCursor {
  using Space = typename Reader::state_space;
  using Range =
      decltype(std::declval<const Reader&>().range_iter(Space{}, KeyBounds{}, ScanOrder::kForward));
  using It = std::ranges::iterator_t<Range>;

 public:
  IterCursor(const Reader& reader, Space space, const KeyBounds& bounds = {})
      : fwd_(reader.range_iter(space, bounds, ScanOrder::kForward)),
        rev_(reader.range_iter(space, bounds, ScanOrder::kReverse)) {}

  void seek_to_first() { load(true, fwd_.begin()); }
  void seek_to_last() { load(false, rev_.begin()); }
  void seek(std::string_view key) { load(true, fwd_.seek(key)); }
  void seek_for_prev(std::string_view key) { load(false, rev_.seek(key)); }
  // REQUIRES for a real iterator: valid(). Here an invalid cursor stays invalid.
  void next() { step(true); }
  void prev() { step(false); }

  bool valid() const { return key_.has_value(); }
  std::string status() const {
    return key_ ? printable(*key_) + "->" + printable(value_) : std::string("(invalid)");
  }
  // OK unless a range reported an error.
  Status range_status() const {
    if (Status s = fwd_.status(); !s.ok()) return s;
    return rev_.status();
  }

 private:
  void step(bool forward) {
    if (!key_) return;
    if (forward == forward_) {
      ++(forward ? fit_ : rit_);
      read(forward);
      return;
    }
    const std::string at = *key_;
    It it = forward ? fwd_.seek(at) : rev_.seek(at);
    if (!(it == std::default_sentinel) && (*it).key == at) ++it;
    load(forward, std::move(it));
  }
  void load(bool forward, It it) {
    (forward ? fit_ : rit_) = std::move(it);
    read(forward);
  }
  void read(bool forward) {
    forward_ = forward;
    const It& cur = forward ? fit_ : rit_;
    if (cur == std::default_sentinel) {
      key_.reset();
      value_.clear();
      return;
    }
    const KeyValue kv = *cur;
    key_.emplace(kv.key);
    value_.assign(kv.value);
  }

  Range fwd_;
  Range rev_;
  It fit_{};
  It rit_{};
  bool forward_ = true;
  std::optional<std::string> key_;
  std::string value_;
};

// One move of a cursor and the position it must show after it: walk() runs a script of them,
// LevelDB's tests' "iter->Next(); ASSERT_EQ(IterStatus(iter), ...)" pairs.
struct IterStep {
  enum Move : std::uint8_t { kFirst, kLast, kNext, kPrev, kSeek, kSeekForPrev };
  IterStep(Move m, std::string_view w) : move(m), want(w) {}
  IterStep(Move m, std::string_view k, std::string_view w) : move(m), key(k), want(w) {}

  Move move;
  std::string key;   // kSeek and kSeekForPrev's target
  std::string want;  // IterCursor::status() after the move
};

inline std::string describe(const IterStep& s) {
  static constexpr std::array<const char*, 6> kNames = {
      "seek_to_first", "seek_to_last", "next", "prev", "seek", "seek_for_prev"};
  std::string out = kNames[s.move];
  if (s.move == IterStep::kSeek || s.move == IterStep::kSeekForPrev) {
    out += "(\"" + printable(s.key) + "\")";
  }
  return out;
}

// Makes each move of `steps` on `c` and checks the position after it.
template <class Reader>
void walk(IterCursor<Reader>& c, std::string_view view, std::initializer_list<IterStep> steps) {
  std::size_t n = 0;
  for (const IterStep& s : steps) {
    switch (s.move) {
      case IterStep::kFirst:
        c.seek_to_first();
        break;
      case IterStep::kLast:
        c.seek_to_last();
        break;
      case IterStep::kNext:
        c.next();
        break;
      case IterStep::kPrev:
        c.prev();
        break;
      case IterStep::kSeek:
        c.seek(s.key);
        break;
      case IterStep::kSeekForPrev:
        c.seek_for_prev(s.key);
        break;
    }
    EXPECT_EQ(c.status(), s.want) << view << ", step " << n << ": " << describe(s);
    ++n;
  }
}

// ---- the fixture -------------------------------------------------------------------------

// The snapshot type of T (int when T has none).
template <class T>
struct SnapshotOf {
  using type = int;  // no snapshots
};
template <SnapshotStore T>
struct SnapshotOf<T> {
  using type = decltype(std::declval<const T&>().snapshot());
};

// How a scenario's writes reach the reader under test.
enum class IterView : std::uint8_t {
  kStore,           // committed to the store, read from the store
  kSnapshot,        // committed, a snapshot taken, the store then changed; read from the snapshot
  kBatchOnly,       // every write pending in an indexed batch over an empty store
  kBatchOverStore,  // the first half committed, the rest pending in the batch
  kBatchShadowing,  // the store holds stale values and ghost keys, all erased by the batch
};
inline const char* iter_view_name(IterView v) {
  switch (v) {
    case IterView::kStore:
      return "store";
    case IterView::kSnapshot:
      return "snapshot";
    case IterView::kBatchOnly:
      return "batch only";
    case IterView::kBatchOverStore:
      return "batch over store";
    case IterView::kBatchShadowing:
      return "batch shadowing stale store";
  }
  return "?";
}

template <class Factory>
class IteratorSuite : public StoreFixture<Factory> {
 protected:
  using S = typename StoreFixture<Factory>::S;
  using Space = typename StoreFixture<Factory>::Space;
  using Batch = IndexedBatch<S>;
  static_assert(RangeReadStore<S>, "IteratorSuite needs a RangeReadStore");
  static_assert(RangeReadStore<Batch>);

  // Flushes the store's memtables where it has them (RocksDbStore::flush).
  void flush_store() {
    if constexpr (requires(S & s) { s.flush(); }) {
      ASSERT_TRUE(this->store().flush().ok());
    }
  }

  // Erases every key of every space of the store.
  void wipe() {
    auto b = this->store().new_batch();
    for (Space space : all_state_spaces<Space>()) {
      for (const KeyValue kv : this->store().prefix_iter(space, "")) b.erase(space, kv.key);
    }
    ASSERT_TRUE(this->store().commit(std::move(b), WriteOptions{}).ok());
  }

  // Keys next to the scenario's keys that none of its writes names: a scan that wrongly
  // shows one of them shows a key the view should not have.
  static std::vector<std::string> ghosts_of(const std::vector<IterOp>& ops) {
    std::set<std::string> named;
    for (const IterOp& op : ops) {
      if (op.kind != IterOp::Kind::kFlush) named.insert(op.key);
    }
    std::set<std::string> ghosts;
    for (const std::string& k : named) {
      ghosts.insert(k + '\0');
      ghosts.insert(k + '\xff');
      if (!k.empty()) ghosts.insert(k.substr(0, k.size() - 1) + "~");
    }
    std::vector<std::string> out;
    for (const std::string& g : ghosts) {
      if (!named.contains(g)) out.push_back(g);
    }
    return out;
  }

  void commit_ops(std::span<const IterOp> ops) {
    auto b = this->store().new_batch();
    for (const IterOp& op : ops) {
      if (op.kind == IterOp::Kind::kFlush) {
        ASSERT_TRUE(this->store().commit(std::move(b), WriteOptions{}).ok());
        b = this->store().new_batch();
        flush_store();
      } else if (op.kind == IterOp::Kind::kPut) {
        b.put(this->kA, op.key, op.value);
      } else {
        b.erase(this->kA, op.key);
      }
    }
    ASSERT_TRUE(this->store().commit(std::move(b), WriteOptions{}).ok());
  }
  static void batch_ops(Batch& b, std::span<const IterOp> ops, Space space) {
    for (const IterOp& op : ops) {
      if (op.kind == IterOp::Kind::kPut) b.put(space, op.key, op.value);
      if (op.kind == IterOp::Kind::kErase) b.erase(space, op.key);
    }
  }
  // Writes the batch must take back: a savepoint, garbage over every key, a rollback.
  void rolled_back_garbage(Batch& b, const std::vector<IterOp>& ops) {
    b.set_savepoint();
    for (const IterOp& op : ops) {
      if (op.kind == IterOp::Kind::kFlush) continue;
      b.put(this->kA, op.key, "garbage");
      b.erase(this->kA, op.key + '\0');
      b.put(this->kA, op.key + '\x01', "garbage");
    }
    ASSERT_TRUE(b.rollback_to_savepoint().ok());
  }

  // Calls check(reader, model, view name) with the model of `ops` for every view: `ops` reach
  // each reader as IterView says, on a wiped store.
  template <class Check>
  void for_each_view(const std::vector<IterOp>& ops, Check check) {
    const IterModel model = model_of(ops);
    for (IterView v : {IterView::kStore, IterView::kSnapshot, IterView::kBatchOnly,
                       IterView::kBatchOverStore, IterView::kBatchShadowing}) {
      SCOPED_TRACE(iter_view_name(v));
      wipe();
      switch (v) {
        case IterView::kStore:
          commit_ops(ops);
          check(std::as_const(this->store()), model, iter_view_name(v));
          break;
        case IterView::kSnapshot:
          if constexpr (SnapshotStore<S>) {
            commit_ops(ops);
            auto snap = this->store().snapshot();
            // Change every key the scenario names and add its ghosts after the snapshot.
            std::vector<IterOp> later;
            for (const auto& [k, val] : model) later.push_back(erase_op(k));
            for (const IterOp& op : ops) {
              if (op.kind == IterOp::Kind::kErase) later.push_back(put_op(op.key, "resurrected"));
            }
            for (const std::string& g : ghosts_of(ops)) later.push_back(put_op(g, "after"));
            later.push_back(flush_op());
            commit_ops(later);
            check(std::as_const(snap), model, iter_view_name(v));
          }
          break;
        case IterView::kBatchOnly: {
          auto b = new_indexed_batch(this->store());
          batch_ops(b, ops, this->kA);
          check(std::as_const(b), model, iter_view_name(v));
          break;
        }
        case IterView::kBatchOverStore: {
          const std::size_t half = ops.size() / 2;
          commit_ops(std::span(ops).first(half));
          auto b = new_indexed_batch(this->store());
          (void)b.get(this->kA, "");  // point reads from the start (RocksDB: its key hash)
          rolled_back_garbage(b, ops);
          const std::span<const IterOp> rest = std::span(ops).subspan(half);
          const std::size_t mid = rest.size() / 2;
          batch_ops(b, rest.first(mid), this->kA);
          // A range read between the writes (RocksDB: the index is built from here on).
          (void)drain(b.range_iter(this->kA, KeyBounds::all(), ScanOrder::kReverse));
          b.set_savepoint();
          batch_ops(b, rest.subspan(mid), this->kA);
          ASSERT_TRUE(b.pop_savepoint().ok());
          batch_ops(b, ops, this->kB);  // another space of the same batch
          check(std::as_const(b), model, iter_view_name(v));
          break;
        }
        case IterView::kBatchShadowing: {
          std::vector<IterOp> stale;
          for (const IterOp& op : ops) {
            if (op.kind != IterOp::Kind::kFlush) stale.push_back(put_op(op.key, "stale"));
          }
          for (const std::string& g : ghosts_of(ops)) stale.push_back(put_op(g, "ghost"));
          stale.push_back(flush_op());
          commit_ops(stale);
          auto b = new_indexed_batch(this->store());
          rolled_back_garbage(b, ops);
          for (const IterOp& op : stale) {
            if (op.kind != IterOp::Kind::kFlush) b.erase(this->kA, op.key);
          }
          batch_ops(b, ops, this->kA);
          check(std::as_const(b), model, iter_view_name(v));
          break;
        }
      }
    }
  }

  // Compares every read of `reader` in space kA with `model`: get and multi_get of every key
  // named, next to one, or a ghost; prefix_iter of every prefix of those; range_iter over
  // every pair of them as bounds (and open ends), both ways, from begin() and from a seek to
  // each of them.
  template <class Reader>
  void verify_reads(const Reader& reader, const IterModel& model, const char* view,
                    const std::vector<std::string>& extra_points = {}) {
    std::set<std::string> point_set{"", std::string(1, '\0'), std::string(1, '\xff')};
    for (const auto& [k, v] : model) {
      point_set.insert(k);
      point_set.insert(k + '\0');
      if (!k.empty()) point_set.insert(k.substr(0, k.size() - 1));
    }
    point_set.insert(extra_points.begin(), extra_points.end());
    const std::vector<std::string> points(point_set.begin(), point_set.end());
    auto want = [&](const std::string& k) {
      const auto it = model.find(k);
      return it == model.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    for (const std::string& k : points) {
      auto got = reader.get(this->kA, k);
      ASSERT_TRUE(got.has_value()) << got.error();
      EXPECT_EQ(*got, want(k)) << view << ": get(\"" << printable(k) << "\")";
    }
    if constexpr (MultiGetStore<Reader>) {
      std::vector<std::string_view> keys(points.begin(), points.end());
      keys.insert(keys.end(), points.rbegin(), points.rend());  // each twice
      auto got = reader.multi_get(this->kA, keys);
      ASSERT_TRUE(got.has_value()) << got.error();
      ASSERT_EQ(got->size(), keys.size());
      for (std::size_t i = 0; i < keys.size(); ++i) {
        EXPECT_EQ((*got)[i], want(std::string(keys[i])))
            << view << ": multi_get key " << i << " \"" << printable(keys[i]) << "\"";
      }
    }
    for (const std::string& k : points) {
      for (std::size_t n = 0; n <= k.size(); ++n) {
        const std::string prefix = k.substr(0, n);
        EXPECT_EQ(drain(reader.prefix_iter(this->kA, prefix)),
                  expected_scan(model, KeyBounds::prefix(prefix), ScanOrder::kForward))
            << view << ": prefix_iter(\"" << printable(prefix) << "\")";
      }
    }
    std::vector<KeyBounds> all_bounds = {KeyBounds::all()};
    for (const std::string& lo : points) {
      all_bounds.push_back(KeyBounds::at_least(lo));
      for (const std::string& hi : points) {
        if (lo <= hi) all_bounds.push_back(KeyBounds::between(lo, hi));
      }
    }
    for (const KeyBounds& bounds : all_bounds) {
      for (ScanOrder order : {ScanOrder::kForward, ScanOrder::kReverse}) {
        const char* dir = order == ScanOrder::kForward ? "forward" : "reverse";
        auto range = reader.range_iter(this->kA, bounds, order);
        EXPECT_EQ(drain(range), expected_scan(model, bounds, order))
            << view << ": " << dir << " range_iter" << printable(bounds);
        for (const std::string& at : points) {
          EXPECT_EQ(drain_from(range, range.seek(at)), expected_scan(model, bounds, order, at))
              << view << ": " << dir << " range_iter" << printable(bounds) << " seek(\""
              << printable(at) << "\")";
        }
      }
    }
  }

  // for_each_view(ops) with verify_reads on each view.
  void verify_all_views(const std::vector<IterOp>& ops) {
    for_each_view(ops, [&](const auto& reader, const IterModel& model, const char* view) {
      verify_reads(reader, model, view);
    });
  }
};

TYPED_TEST_SUITE_P(IteratorSuite);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(IteratorSuite);

// Port of leveldb DBTest.IterEmpty and rocksdb DBIteratorTest.IterEmpty.
TYPED_TEST_P(IteratorSuite, IterEmpty) {
  this->for_each_view({put_op("other", "x"), erase_op("other")},
                      [&](const auto& r, const IterModel& model, const char* view) {
                        IterCursor c(r, this->kA);
                        walk(c, view,
                             {
                                 {IterStep::kFirst, "(invalid)"},
                                 {IterStep::kLast, "(invalid)"},
                                 {IterStep::kSeek, "foo", "(invalid)"},
                                 {IterStep::kSeekForPrev, "foo", "(invalid)"},
                             });
                        EXPECT_TRUE(c.range_status().ok());
                        this->verify_reads(r, model, view, {"foo", "other"});
                      });
}

// Port of leveldb DBTest.IterSingle and rocksdb DBIteratorTest.IterSingle.
TYPED_TEST_P(IteratorSuite, IterSingle) {
  this->for_each_view({put_op("a", "va")},
                      [&](const auto& r, const IterModel& model, const char* view) {
                        IterCursor c(r, this->kA);
                        walk(c, view,
                             {
                                 {IterStep::kFirst, "a->va"},
                                 {IterStep::kNext, "(invalid)"},
                                 {IterStep::kFirst, "a->va"},
                                 {IterStep::kPrev, "(invalid)"},
                                 {IterStep::kLast, "a->va"},
                                 {IterStep::kNext, "(invalid)"},
                                 {IterStep::kLast, "a->va"},
                                 {IterStep::kPrev, "(invalid)"},
                                 {IterStep::kSeek, "", "a->va"},
                                 {IterStep::kNext, "(invalid)"},
                                 {IterStep::kSeek, "a", "a->va"},
                                 {IterStep::kNext, "(invalid)"},
                                 {IterStep::kSeek, "b", "(invalid)"},
                                 {IterStep::kSeekForPrev, "", "(invalid)"},
                                 {IterStep::kSeekForPrev, "a", "a->va"},
                                 {IterStep::kSeekForPrev, "b", "a->va"},
                                 {IterStep::kPrev, "(invalid)"},
                             });
                        this->verify_reads(r, model, view, {"b"});
                      });
}

// Port of leveldb DBTest.IterMulti and rocksdb DBIteratorTest.IterMulti: seeks before,
// between, on and after the keys, and Next/Prev switching direction.
TYPED_TEST_P(IteratorSuite, IterMulti) {
  this->for_each_view({put_op("a", "va"), put_op("b", "vb"), put_op("c", "vc")},
                      [&](const auto& r, const IterModel& model, const char* view) {
                        IterCursor c(r, this->kA);
                        walk(c, view,
                             {
                                 {IterStep::kFirst, "a->va"},
                                 {IterStep::kNext, "b->vb"},
                                 {IterStep::kNext, "c->vc"},
                                 {IterStep::kNext, "(invalid)"},
                                 {IterStep::kFirst, "a->va"},
                                 {IterStep::kPrev, "(invalid)"},
                                 {IterStep::kLast, "c->vc"},
                                 {IterStep::kPrev, "b->vb"},
                                 {IterStep::kPrev, "a->va"},
                                 {IterStep::kPrev, "(invalid)"},
                                 {IterStep::kLast, "c->vc"},
                                 {IterStep::kNext, "(invalid)"},
                                 {IterStep::kSeek, "", "a->va"},
                                 {IterStep::kSeek, "a", "a->va"},
                                 {IterStep::kSeek, "ax", "b->vb"},
                                 {IterStep::kSeek, "b", "b->vb"},
                                 {IterStep::kSeek, "z", "(invalid)"},
                                 {IterStep::kSeekForPrev, "ax", "a->va"},
                                 {IterStep::kSeekForPrev, "z", "c->vc"},
                             });

                        // Switch from reverse to forward.
                        c.seek_to_last();
                        c.prev();
                        c.prev();
                        c.next();
                        EXPECT_EQ(c.status(), "b->vb") << view;
                        // Switch from forward to reverse.
                        c.seek_to_first();
                        c.next();
                        c.next();
                        c.prev();
                        EXPECT_EQ(c.status(), "b->vb") << view;
                        this->verify_reads(r, model, view, {"ax", "z"});
                      });
}

// Port of leveldb DBTest.IterMulti's last part ("make sure iter stays at snapshot") and rocksdb
// DBIteratorTest.IterWithSnapshot: a range made before later commits, and a snapshot, keep
// their point in time while the store changes under them.
TYPED_TEST_P(IteratorSuite, IterStaysAtItsPointInTime) {
  this->put_all(this->kA, {"a", "b", "c"});
  this->flush_store();
  IterCursor c(std::as_const(this->store()), this->kA);
  std::optional<typename SnapshotOf<typename TestFixture::S>::type> snap;
  if constexpr (SnapshotStore<typename TestFixture::S>) snap.emplace(this->store().snapshot());
  auto b = this->store().new_batch();
  b.put(this->kA, "a", "va2");
  b.put(this->kA, "a2", "va3");
  b.put(this->kA, "b", "vb2");
  b.put(this->kA, "c", "vc2");
  b.erase(this->kA, "b");
  ASSERT_TRUE(this->store().commit(std::move(b), WriteOptions{}).ok());
  c.seek_to_first();
  EXPECT_EQ(c.status(), "a->v:a");
  c.next();
  EXPECT_EQ(c.status(), "b->v:b");
  c.next();
  EXPECT_EQ(c.status(), "c->v:c");
  c.prev();
  EXPECT_EQ(c.status(), "b->v:b");
  c.seek_for_prev("a2");
  EXPECT_EQ(c.status(), "a->v:a");
  c.next();
  EXPECT_EQ(c.status(), "b->v:b");
  if constexpr (SnapshotStore<typename TestFixture::S>) {
    this->verify_reads(*snap, IterModel{{"a", "v:a"}, {"b", "v:b"}, {"c", "v:c"}}, "snapshot",
                       {"a2"});
  }
  this->verify_reads(std::as_const(this->store()),
                     IterModel{{"a", "va2"}, {"a2", "va3"}, {"c", "vc2"}}, "store", {"b"});
}

// Port of leveldb DBTest.IterSmallAndLargeMix and rocksdb DBIteratorTest.IterSmallAndLargeMix.
TYPED_TEST_P(IteratorSuite, IterSmallAndLargeMix) {
  const std::string b(100000, 'b');
  const std::string d(100000, 'd');
  const std::string e(100000, 'e');
  this->for_each_view(
      {put_op("a", "va"), put_op("b", b), put_op("c", "vc"), put_op("d", d), put_op("e", e)},
      [&](const auto& r, const IterModel& model, const char* view) {
        IterCursor c(r, this->kA);
        walk(c, view,
             {
                 {IterStep::kFirst, "a->va"},
                 {IterStep::kNext, "b->" + b},
                 {IterStep::kNext, "c->vc"},
                 {IterStep::kNext, "d->" + d},
                 {IterStep::kNext, "e->" + e},
                 {IterStep::kNext, "(invalid)"},
                 {IterStep::kLast, "e->" + e},
                 {IterStep::kPrev, "d->" + d},
                 {IterStep::kPrev, "c->vc"},
                 {IterStep::kPrev, "b->" + b},
                 {IterStep::kPrev, "a->va"},
                 {IterStep::kPrev, "(invalid)"},
             });
        this->verify_reads(r, model, view);
      });
}

// Port of leveldb DBTest.IterMultiWithDelete and rocksdb DBIteratorTest.IterMultiWithDelete.
TYPED_TEST_P(IteratorSuite, IterMultiWithDelete) {
  this->for_each_view({put_op("ka", "va"), put_op("kb", "vb"), put_op("kc", "vc"), erase_op("kb")},
                      [&](const auto& r, const IterModel& model, const char* view) {
                        IterCursor c(r, this->kA);
                        walk(c, view,
                             {
                                 {IterStep::kSeek, "kc", "kc->vc"},
                                 {IterStep::kPrev, "ka->va"},
                                 {IterStep::kNext, "kc->vc"},
                                 {IterStep::kSeekForPrev, "kb", "ka->va"},
                                 {IterStep::kNext, "kc->vc"},
                             });
                        this->verify_reads(r, model, view, {"kb"});
                      });
}

// Port of rocksdb DBIteratorTest.IterPrevMaxSkip: each key written twice (flushed between),
// then deleted from the last one down; SeekToLast finds the largest key left.
TYPED_TEST_P(IteratorSuite, IterPrevMaxSkip) {
  std::vector<IterOp> ops;
  for (int round = 0; round < 2; ++round) {
    for (int i = 1; i <= 5; ++i) {
      ops.push_back(put_op("key" + std::to_string(i), "v" + std::to_string(i)));
    }
    ops.push_back(flush_op());
  }
  for (int deleted = 5; deleted >= 0; --deleted) {
    const std::string want =
        deleted == 0 ? "(invalid)"
                     : "key" + std::to_string(deleted) + "->v" + std::to_string(deleted);
    this->for_each_view(ops, [&](const auto& r, const IterModel& model, const char* view) {
      IterCursor c(r, this->kA);
      c.seek_to_last();
      EXPECT_EQ(c.status(), want) << view;
      this->verify_reads(r, model, view);
    });
    if (deleted > 0) ops.push_back(erase_op("key" + std::to_string(deleted)));
  }
}

// Port of rocksdb DBIteratorTest.IterPrevWithNewerSeq / IterNextWithNewerSeq: a key written
// many times among others; moving off it both ways skips its older versions.
TYPED_TEST_P(IteratorSuite, IterWithManyVersionsOfOneKey) {
  std::vector<IterOp> ops = {put_op("0", "0"), flush_op(), put_op("a", "b"), put_op("c", "d"),
                             put_op("d", "e")};
  for (int i = 0; i < 32; ++i) ops.push_back(put_op("b", "x" + std::to_string(i)));
  this->for_each_view(ops, [&](const auto& r, const IterModel& model, const char* view) {
    IterCursor c(r, this->kA);
    walk(c, view,
         {
             {IterStep::kSeek, "a", "a->b"},
             {IterStep::kNext, "b->x31"},
             {IterStep::kNext, "c->d"},
             {IterStep::kSeekForPrev, "b", "b->x31"},
             {IterStep::kPrev, "a->b"},
             {IterStep::kPrev, "0->0"},
         });
    c.seek("c");
    c.prev();
    EXPECT_EQ(c.status(), "b->x31") << view;
    this->verify_reads(r, model, view);
  });
}

// Port of rocksdb DBIteratorTest.DBIteratorBoundTest (no prefix extractor): the upper bound
// stops a forward scan; SeekToLast under an upper bound lands below it.
TYPED_TEST_P(IteratorSuite, DBIteratorBoundTest) {
  this->for_each_view(
      {put_op("a", "0"), put_op("foo", "bar"), put_op("foo1", "bar1"), put_op("g1", "0")},
      [&](const auto& r, const IterModel& model, const char* view) {
        {
          IterCursor c(r, this->kA);
          walk(c, view,
               {
                   {IterStep::kSeek, "foo", "foo->bar"},
                   {IterStep::kNext, "foo1->bar1"},
                   {IterStep::kNext, "g1->0"},
                   {IterStep::kSeekForPrev, "g1", "g1->0"},
                   {IterStep::kPrev, "foo1->bar1"},
                   {IterStep::kPrev, "foo->bar"},
               });
        }
        {
          IterCursor c(r, this->kA, KeyBounds::below("foo2"));
          walk(c, view,
               {
                   {IterStep::kSeek, "foo", "foo->bar"},
                   {IterStep::kNext, "foo1->bar1"},
                   {IterStep::kNext, "(invalid)"},
               });
        }
        {
          IterCursor c(r, this->kA, KeyBounds::below("foo"));
          c.seek_to_last();
          EXPECT_EQ(c.status(), "a->0") << view;
        }
        {
          // The upper bound is an existing key (SeekToLast must not land on it).
          IterCursor c(r, this->kA, KeyBounds::below("foo1"));
          walk(c, view,
               {
                   {IterStep::kLast, "foo->bar"},
                   {IterStep::kSeekForPrev, "zzz", "foo->bar"},
               });
        }
        {
          // The lower bound: reverse stops at it, a seek below it lands on it.
          IterCursor c(r, this->kA, KeyBounds::at_least("foo"));
          c.seek_to_last();
          EXPECT_EQ(c.status(), "g1->0") << view;
          c.prev();
          walk(c, view,
               {
                   {IterStep::kPrev, "foo->bar"},
                   {IterStep::kPrev, "(invalid)"},
                   {IterStep::kSeek, "a", "foo->bar"},
                   {IterStep::kSeekForPrev, "a", "(invalid)"},
               });
        }
        this->verify_reads(r, model, view, {"foo2", "zzz"});
      });
}

// Port of rocksdb DBIteratorTest.UpperBoundWithChangeDirection and UpperBoundWithPrevReseek:
// Seek then Prev under an upper bound, many versions of a key beneath.
TYPED_TEST_P(IteratorSuite, UpperBoundWithChangeDirection) {
  std::vector<IterOp> ops = {
      put_op("a", "1"), put_op("y", "1"), put_op("y1", "1"), put_op("y2", "1"), put_op("y3", "1"),
      put_op("z", "1"), flush_op(),       put_op("a", "1"),  put_op("z", "1"),  put_op("bar", "1")};
  for (int i = 1; i <= 6; ++i) ops.push_back(put_op("foo", std::to_string(i)));
  this->for_each_view(ops, [&](const auto& r, const IterModel& model, const char* view) {
    IterCursor c(r, this->kA, KeyBounds::below("x"));
    walk(c, view,
         {
             {IterStep::kSeek, "foo", "foo->6"},
             {IterStep::kPrev, "bar->1"},
             {IterStep::kSeekForPrev, "goo", "foo->6"},
             {IterStep::kPrev, "bar->1"},
             {IterStep::kLast, "foo->6"},
             {IterStep::kNext, "(invalid)"},
         });
    this->verify_reads(r, model, view, {"x", "goo"});
  });
}

// Port of rocksdb DBIteratorTest.SeekBackwardAfterOutOfUpperBound: off the end under an upper
// bound, then SeekForPrev again.
TYPED_TEST_P(IteratorSuite, SeekBackwardAfterOutOfUpperBound) {
  this->for_each_view({put_op("a", ""), put_op("b", ""), flush_op()},
                      [&](const auto& r, const IterModel& model, const char* view) {
                        IterCursor c(r, this->kA, KeyBounds::below("b"));
                        walk(c, view,
                             {
                                 {IterStep::kSeekForPrev, "a", "a->"},
                                 {IterStep::kNext, "(invalid)"},
                                 {IterStep::kSeekForPrev, "a", "a->"},
                                 {IterStep::kSeekForPrev, "b", "a->"},
                                 {IterStep::kLast, "a->"},
                             });
                        EXPECT_TRUE(c.range_status().ok());
                        this->verify_reads(r, model, view);
                      });
}

// Port of rocksdb WriteBatchWithIndexTest.TestBoundsCheckingInDeltaIterator and
// TestBoundsCheckingInSeekToFirstAndLastOfDeltaIterator: pending writes outside the bounds.
TYPED_TEST_P(IteratorSuite, TestBoundsCheckingInDeltaIterator) {
  this->for_each_view({put_op("a", "aa"), put_op("b", "bb"), put_op("c", "cc")},
                      [&](const auto& r, const IterModel& model, const char* view) {
                        for (const KeyBounds& bounds :
                             {KeyBounds::between("b", "c"), KeyBounds::between("a.1", "c"),
                              KeyBounds::between("b", "b.2")}) {
                          SCOPED_TRACE(printable(bounds));
                          IterCursor c(r, this->kA, bounds);
                          walk(c, view,
                               {
                                   {IterStep::kFirst, "b->bb"},
                                   {IterStep::kPrev, "(invalid)"},
                                   {IterStep::kLast, "b->bb"},
                                   {IterStep::kNext, "(invalid)"},
                                   {IterStep::kSeek, "a", "b->bb"},
                                   {IterStep::kSeek, "b", "b->bb"},
                                   {IterStep::kSeek, "c", "(invalid)"},
                                   {IterStep::kSeekForPrev, "c", "b->bb"},
                                   {IterStep::kSeekForPrev, "b", "b->bb"},
                                   {IterStep::kSeekForPrev, "a", "(invalid)"},
                                   {IterStep::kSeekForPrev, "a.1", "(invalid)"},
                                   {IterStep::kSeek, "b.1", "(invalid)"},
                               });
                        }
                        for (const KeyBounds& bounds :
                             {KeyBounds::between("b.5", "c"), KeyBounds::between("d", "e")}) {
                          IterCursor c(r, this->kA, bounds);
                          c.seek_to_first();
                          EXPECT_EQ(c.status(), "(invalid)") << view << printable(bounds);
                          c.seek_to_last();
                          EXPECT_EQ(c.status(), "(invalid)") << view << printable(bounds);
                        }
                        this->verify_reads(r, model, view, {"a.1", "b.1", "b.2", "b.5", "d", "e"});
                      });
}

// The smallest case of a bug several tests above found (from rocksdb WriteBatchWithIndexTest
// .TestBoundsCheckingInDeltaIterator): a reverse scan whose upper bound is itself a key with a
// write starts below it; so does a reverse seek at or past the upper bound.
// RocksDbStore returned {} here before the fix: the read options with iterate_upper_bound
// were given to NewIteratorWithBase, and RocksDB 7.8's BaseDeltaIterator ended the
// SeekForPrev that landed on the bound itself (the store side empty) without setting which
// side is current.
TYPED_TEST_P(IteratorSuite, ReverseScanBelowAnUpperBoundThatIsAKey) {
  this->for_each_view(
      {put_op("a", "1"), put_op("b", "2")}, [&](const auto& r, const IterModel&, const char* view) {
        EXPECT_EQ(drain(r.range_iter(this->kA, KeyBounds::below("b"), ScanOrder::kReverse)),
                  (KeyValues{{"a", "1"}}))
            << view;
        auto range = r.range_iter(this->kA, KeyBounds::between("a", "b"), ScanOrder::kReverse);
        EXPECT_EQ(drain_from(range, range.seek("z")), (KeyValues{{"a", "1"}})) << view;
      });
}

// Port of rocksdb WriteBatchWithIndexTest.TestIteraratorWithBase: pending deletes, overwrites
// and new keys between and around the base's keys, both ways, switching direction.
TYPED_TEST_P(IteratorSuite, TestIteraratorWithBase) {
  this->for_each_view(
      {put_op("b", ""), put_op("cc", "cccc"), put_op("f", "ff"), put_op("e", "base e"),
       put_op("a", "aa"), erase_op("b"), put_op("c", "cc"), put_op("d", "dd"), erase_op("e")},
      [&](const auto& r, const IterModel& model, const char* view) {
        IterCursor c(r, this->kA);
        walk(c, view,
             {
                 {IterStep::kFirst, "a->aa"},         {IterStep::kNext, "c->cc"},
                 {IterStep::kNext, "cc->cccc"},       {IterStep::kNext, "d->dd"},
                 {IterStep::kNext, "f->ff"},          {IterStep::kNext, "(invalid)"},
                 {IterStep::kLast, "f->ff"},          {IterStep::kPrev, "d->dd"},
                 {IterStep::kPrev, "cc->cccc"},       {IterStep::kPrev, "c->cc"},
                 {IterStep::kNext, "cc->cccc"},       {IterStep::kPrev, "c->cc"},
                 {IterStep::kPrev, "a->aa"},          {IterStep::kPrev, "(invalid)"},
                 {IterStep::kSeek, "c", "c->cc"},     {IterStep::kSeek, "cb", "cc->cccc"},
                 {IterStep::kSeek, "cc", "cc->cccc"}, {IterStep::kNext, "d->dd"},
                 {IterStep::kSeek, "e", "f->ff"},     {IterStep::kPrev, "d->dd"},
                 {IterStep::kNext, "f->ff"},
             });
        this->verify_reads(r, model, view, {"b", "cb", "e"});
      });
}

// Keys that are prefixes of each other, with 0x00 and 0xff bytes: prefix scans of each, and
// bounds equal to each.
TYPED_TEST_P(IteratorSuite, KeysThatArePrefixesOfEachOther) {
  std::vector<IterOp> ops;
  for (std::string_view k :
       {std::string_view("a"), std::string_view("a\0", 2), std::string_view("a\0\0", 3),
        std::string_view("aa"), std::string_view("aa\xff"), std::string_view("a\xff"),
        std::string_view("a\xff\xff"), std::string_view("a\xff\xff\xff"), std::string_view("b"),
        std::string_view("b\0", 2)}) {
    ops.push_back(put_op(k, "v:" + std::string(k)));
  }
  this->for_each_view(ops, [&](const auto& r, const IterModel& model, const char* view) {
    EXPECT_EQ(keys_of(drain(r.prefix_iter(this->kA, "a\xff"))),
              (Keys{"a\xff", "a\xff\xff", "a\xff\xff\xff"}))
        << view;
    EXPECT_EQ(keys_of(drain(r.prefix_iter(this->kA, std::string_view("a\0", 2)))),
              (Keys{std::string("a\0", 2), std::string("a\0\0", 3)}))
        << view;
    IterCursor c(r, this->kA, KeyBounds::between("a", "aa"));
    c.seek_to_last();
    EXPECT_EQ(c.status(),
              printable(std::string("a\0\0", 3)) + "->" + printable("v:" + std::string("a\0\0", 3)))
        << view;
    this->verify_reads(r, model, view);
  });
}

// The empty key, and keys of 0x00 and 0xff bytes only: they are keys like any other, at the
// very ends of the space.
TYPED_TEST_P(IteratorSuite, EmptyKeyAndExtremeBytes) {
  std::vector<IterOp> ops;
  for (std::string_view k :
       {std::string_view(""), std::string_view("\0", 1), std::string_view("\0\0", 2),
        std::string_view("\xff"), std::string_view("\xff\xff"), std::string_view("\x7f")}) {
    ops.push_back(put_op(k, "v:" + std::string(k)));
  }
  this->for_each_view(ops, [&](const auto& r, const IterModel& model, const char* view) {
    IterCursor c(r, this->kA);
    walk(c, view,
         {
             {IterStep::kFirst, "->v:"},
             {IterStep::kPrev, "(invalid)"},
             {IterStep::kLast, "\\xff\\xff->v:\\xff\\xff"},
             {IterStep::kSeekForPrev, "", "->v:"},
             {IterStep::kNext, "\\x00->v:\\x00"},
         });
    EXPECT_EQ(keys_of(drain(r.range_iter(this->kA, KeyBounds::below(std::string(1, '\0')),
                                         ScanOrder::kReverse))),
              (Keys{""}))
        << view;
    EXPECT_EQ(
        keys_of(drain(r.range_iter(this->kA, KeyBounds::at_least("\xff"), ScanOrder::kReverse))),
        (Keys{"\xff\xff", "\xff"}))
        << view;
    this->verify_reads(r, model, view, {"\xff\xff\xff"});
  });
}

// Seeks past either end, below the lower bound and at or above the upper bound, both ways.
TYPED_TEST_P(IteratorSuite, SeekPastTheEnds) {
  this->for_each_view({put_op("b", "1"), put_op("d", "2"), put_op("f", "3"), put_op("h", "4")},
                      [&](const auto& r, const IterModel& model, const char* view) {
                        IterCursor c(r, this->kA, KeyBounds::between("c", "g"));
                        walk(c, view,
                             {
                                 {IterStep::kSeek, "z", "(invalid)"},
                                 {IterStep::kSeek, "g", "(invalid)"},
                                 {IterStep::kSeek, "a", "d->2"},
                                 {IterStep::kSeekForPrev, "a", "(invalid)"},
                                 {IterStep::kSeekForPrev, "c", "(invalid)"},
                                 {IterStep::kSeekForPrev, "z", "f->3"},
                                 {IterStep::kSeekForPrev, "g", "f->3"},
                                 {IterStep::kNext, "(invalid)"},
                             });
                        this->verify_reads(r, model, view, {"a", "c", "g", "z"});
                      });
}

// Bounds equal to existing keys: the lower one is in, the upper one out, whichever side of
// the view (store or batch) holds them.
TYPED_TEST_P(IteratorSuite, BoundsEqualToExistingKeys) {
  this->for_each_view(
      {put_op("a", "1"), put_op("b", "2"), put_op("c", "3"), put_op("d", "4"), put_op("e", "5")},
      [&](const auto& r, const IterModel& model, const char* view) {
        const KeyBounds bd = KeyBounds::between("b", "d");
        EXPECT_EQ(keys_of(drain(r.range_iter(this->kA, bd, ScanOrder::kForward))), (Keys{"b", "c"}))
            << view;
        EXPECT_EQ(keys_of(drain(r.range_iter(this->kA, bd, ScanOrder::kReverse))), (Keys{"c", "b"}))
            << view;
        IterCursor c(r, this->kA, bd);
        walk(c, view,
             {
                 {IterStep::kSeek, "d", "(invalid)"},
                 {IterStep::kSeekForPrev, "d", "c->3"},
                 {IterStep::kSeekForPrev, "b", "b->2"},
                 {IterStep::kPrev, "(invalid)"},
             });
        EXPECT_EQ(keys_of(drain(
                      r.range_iter(this->kA, KeyBounds::between("c", "c"), ScanOrder::kReverse))),
                  Keys{})
            << view;
        this->verify_reads(r, model, view);
      });
}

// Port of rocksdb WriteBatchWithIndexTest.SavePointTest, reading through scans: rollbacks to
// nested savepoints put back exactly the state each was taken in, over a store's keys.
TYPED_TEST_P(IteratorSuite, SavePointTest) {
  this->put_all(this->kA, {"A", "B", "C"});
  auto b = new_indexed_batch(this->store());
  auto scan = [&] { return printable(drain(b.range_iter(this->kA, {}, ScanOrder::kReverse))); };
  const std::string base = scan();
  b.set_savepoint();  // 1
  b.put(this->kA, "A", "a");
  b.put(this->kA, "C", "c");
  b.erase(this->kA, "B");
  b.set_savepoint();  // 2
  const std::string at2 = scan();
  b.put(this->kA, "A", "a2");
  b.put(this->kA, "E", "e");
  b.set_savepoint();  // 3
  b.erase(this->kA, "A");
  b.erase(this->kA, "C");
  b.put(this->kA, "B", "b3");
  EXPECT_EQ(scan(), printable(KeyValues{{"E", "e"}, {"B", "b3"}}));
  ASSERT_TRUE(b.rollback_to_savepoint().ok());  // 3
  EXPECT_EQ(scan(), printable(KeyValues{{"E", "e"}, {"C", "c"}, {"A", "a2"}}));
  ASSERT_TRUE(b.rollback_to_savepoint().ok());  // 2
  EXPECT_EQ(scan(), at2);
  ASSERT_TRUE(b.rollback_to_savepoint().ok());  // 1
  EXPECT_EQ(scan(), base);
  EXPECT_FALSE(b.rollback_to_savepoint().ok());
  ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
  EXPECT_EQ(printable(drain(this->store().range_iter(this->kA, {}, ScanOrder::kReverse))), base);
}

// ---- the randomized model test -----------------------------------------------------------

// Random writes to the store and to an indexed batch over it (puts, overwrites, erases,
// savepoints, rollbacks, pops, commits), snapshots taken and dropped, flushes; after every
// step, reads of the store, the batch and a live snapshot — get, multi_get, prefix_iter,
// range_iter both ways with random bounds and seeks — are compared with std::map models.
// Keys are 0 to 3 bytes of {0x00, 'a', 'b', 0xff}: prefixes of each other and the extremes.
// Every mismatch is reported (the first few of each kind in full) and the run goes on.
template <class Factory>
class IteratorModelSuite : public IteratorSuite<Factory> {
 protected:
  using S = typename IteratorSuite<Factory>::S;
  using Space = typename IteratorSuite<Factory>::Space;
  using Model = std::array<IterModel, 2>;  // spaces kA, kB
  using Pending = std::array<std::map<std::string, std::optional<std::string>>, 2>;

  struct Run {
    std::mt19937_64 rng;
    std::vector<std::string> trace;  // the operations so far, for messages
    std::map<std::string, int> mismatches;
  };

  static std::string random_key(std::mt19937_64& rng) {
    static constexpr char kAlphabet[] = {'\0', 'a', 'b', '\xff'};
    std::string k;
    const auto n = rng() % 4;
    for (std::uint64_t i = 0; i < n; ++i) k.push_back(kAlphabet[rng() % 4]);
    return k;
  }
  static KeyBounds random_bounds(std::mt19937_64& rng) {
    KeyBounds b;
    if (rng() % 4 != 0) b.lower = random_key(rng);
    if (rng() % 4 != 0) b.upper = random_key(rng);
    if (b.upper && *b.upper < b.lower) std::swap(*b.upper, b.lower);
    return b;
  }
  static Model overlay(const Model& base, const Pending& pending) {
    Model m = base;
    for (std::size_t i = 0; i < 2; ++i) {
      for (const auto& [k, v] : pending[i]) {
        if (v) {
          m[i][k] = *v;
        } else {
          m[i].erase(k);
        }
      }
    }
    return m;
  }

  void mismatch(Run& run, const std::string& kind, const std::string& what) {
    if (run.mismatches[kind]++ >= 2) return;
    std::ostringstream msg;
    msg << "MISMATCH " << kind << ": " << what << "\n  after " << run.trace.size()
        << " operations:";
    for (const std::string& t : run.trace) msg << "\n    " << t;
    ADD_FAILURE() << msg.str();
  }

  // Compares a few random reads of `reader` with `model`.
  template <class Reader>
  void check_reads(Run& run, const Reader& reader, const Model& model, const std::string& view,
                   bool ranges) {
    auto& rng = run.rng;
    const std::size_t si = rng() % 2;
    const Space space = si == 0 ? this->kA : this->kB;
    const std::string where = view + " space " + std::to_string(si);
    const IterModel& m = model[si];
    auto want = [&](const std::string& k) {
      const auto it = m.find(k);
      return it == m.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    for (int i = 0; i < 3; ++i) {
      // Half the keys from the model, so that hits are frequent.
      std::string k = random_key(rng);
      if (!m.empty() && rng() % 2 == 0) {
        k = std::next(m.begin(), static_cast<std::ptrdiff_t>(rng() % m.size()))->first;
      }
      auto got = reader.get(space, k);
      if (!got.has_value()) {
        mismatch(run, view + " get error", got.error().to_string());
      } else if (*got != want(k)) {
        mismatch(run, view + " get",
                 where + " get(\"" + printable(k) + "\"): want " +
                     (want(k) ? "\"" + printable(*want(k)) + "\"" : "absent") + ", got " +
                     (*got ? "\"" + printable(**got) + "\"" : "absent"));
      }
    }
    {
      // The zero-copy reads, where the reader has them.
      std::string k = random_key(rng);
      if (!m.empty() && rng() % 2 == 0) {
        k = std::next(m.begin(), static_cast<std::ptrdiff_t>(rng() % m.size()))->first;
      }
      const std::optional<std::string> w = want(k);
      if constexpr (requires(std::string & buf) { reader.get_into(space, k, buf); }) {
        std::string buf = "leftover";
        auto got = reader.get_into(space, k, buf);
        if (!got.has_value() || *got != w.has_value() || (w && buf != *w)) {
          mismatch(run, view + " get_into", where + " get_into(\"" + printable(k) + "\")");
        }
      }
      if constexpr (requires(typename Reader::pinned_value & pv) {
                      reader.get_pinned(space, k, pv);
                    }) {
        typename Reader::pinned_value pv;
        auto got = reader.get_pinned(space, k, pv);
        if (!got.has_value() || *got != w.has_value() || (w && pv.view() != *w)) {
          mismatch(run, view + " get_pinned", where + " get_pinned(\"" + printable(k) + "\")");
        }
      }
    }
    if constexpr (MultiGetStore<Reader>) {
      std::vector<std::string> owned;
      for (int i = 0; i < 5; ++i) owned.push_back(random_key(rng));
      owned.push_back(owned[0]);  // a duplicate
      for (const auto& [k, v] : m) {
        if (rng() % 8 == 0) owned.push_back(k);
      }
      const std::vector<std::string_view> keys(owned.begin(), owned.end());
      auto got = reader.multi_get(space, keys);
      if (!got.has_value()) {
        mismatch(run, view + " multi_get error", got.error().to_string());
      } else {
        for (std::size_t i = 0; i < owned.size(); ++i) {
          if (i >= got->size() || (*got)[i] != want(owned[i])) {
            mismatch(run, view + " multi_get",
                     where + " multi_get: key " + std::to_string(i) + " \"" + printable(owned[i]) +
                         "\"");
            break;
          }
        }
      }
    }
    if (!ranges) return;
    {
      const std::string prefix = random_key(rng).substr(0, 2);
      KeyValues got = drain(reader.prefix_iter(space, prefix));
      KeyValues exp = expected_scan(m, KeyBounds::prefix(prefix), ScanOrder::kForward);
      if (got != exp) {
        mismatch(run, view + " prefix_iter",
                 where + " prefix_iter(\"" + printable(prefix) + "\"): want " + printable(exp) +
                     ", got " + printable(got));
      }
    }
    for (ScanOrder order : {ScanOrder::kForward, ScanOrder::kReverse}) {
      const char* dir = order == ScanOrder::kForward ? "forward" : "reverse";
      const KeyBounds bounds = random_bounds(rng);
      auto range = reader.range_iter(space, bounds, order);
      KeyValues got = drain(range);
      KeyValues exp = expected_scan(m, bounds, order);
      if (got != exp) {
        mismatch(run, view + " " + dir + " range_iter",
                 where + " " + dir + " range_iter" + printable(bounds) + ": want " +
                     printable(exp) + ", got " + printable(got));
      }
      for (int i = 0; i < 2; ++i) {
        const std::string at = random_key(rng);
        got = drain_from(range, range.seek(at));
        exp = expected_scan(m, bounds, order, at);
        if (got != exp) {
          mismatch(run, view + " " + dir + " range_iter seek",
                   where + " " + dir + " range_iter" + printable(bounds) + " seek(\"" +
                       printable(at) + "\"): want " + printable(exp) + ", got " + printable(got));
        }
      }
    }
  }

  // One seeded run of `steps` steps.
  void run_model(std::uint64_t seed, int steps) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    this->wipe();
    Run run{std::mt19937_64(seed), {}, {}};
    auto& rng = run.rng;
    Model base;
    Pending pending;
    std::vector<Pending> savepoints;
    using Snap = typename SnapshotOf<S>::type;
    std::vector<std::pair<std::unique_ptr<Snap>, Model>> snaps;
    auto b = new_indexed_batch(this->store());
    auto space_of = [&](std::size_t i) { return i == 0 ? this->kA : this->kB; };
    for (int step = 0; step < steps; ++step) {
      const std::size_t si = rng() % 5 == 0 ? 1 : 0;
      const Space space = space_of(si);
      const std::string key = random_key(rng);
      const std::string value = "s" + std::to_string(step);
      const std::string sp = " sp" + std::to_string(si) + " ";
      switch (rng() % 24) {
        case 0:
        case 1:
        case 2:
        case 3:
          b.put(space, key, value);
          pending[si][key] = value;
          run.trace.push_back("batch.put" + sp + "\"" + printable(key) + "\" = " + value);
          break;
        case 4:
        case 5: {  // overwrite or erase a key the batch's view holds
          const Model view = overlay(base, pending);
          if (view[si].empty()) break;
          const std::string k =
              std::next(view[si].begin(), static_cast<std::ptrdiff_t>(rng() % view[si].size()))
                  ->first;
          if (rng() % 2 == 0) {
            b.put(space, k, value);
            pending[si][k] = value;
            run.trace.push_back("batch.put" + sp + "\"" + printable(k) + "\" = " + value);
          } else {
            b.erase(space, k);
            pending[si][k] = std::nullopt;
            run.trace.push_back("batch.erase" + sp + "\"" + printable(k) + "\"");
          }
          break;
        }
        case 6:
        case 7:
          b.erase(space, key);
          pending[si][key] = std::nullopt;
          run.trace.push_back("batch.erase" + sp + "\"" + printable(key) + "\"");
          break;
        case 8:
        case 9:
        case 10: {  // a commit straight to the store, under the batch
          auto wb = this->store().new_batch();
          std::string t = "store.commit {";
          const int n = 1 + static_cast<int>(rng() % 3);
          for (int i = 0; i < n; ++i) {
            const std::string k = i == 0 ? key : random_key(rng);
            if (rng() % 3 == 0) {
              wb.erase(space, k);
              base[si].erase(k);
              t += " erase" + sp + "\"" + printable(k) + "\"";
            } else {
              wb.put(space, k, value);
              base[si][k] = value;
              t += " put" + sp + "\"" + printable(k) + "\" = " + value;
            }
          }
          ASSERT_TRUE(this->store().commit(std::move(wb), WriteOptions{}).ok());
          run.trace.push_back(t + " }");
          break;
        }
        case 11:
        case 12:
          b.set_savepoint();
          savepoints.push_back(pending);
          run.trace.push_back("batch.set_savepoint");
          break;
        case 13:
        case 14:
          if (savepoints.empty()) {
            if (b.rollback_to_savepoint().ok()) mismatch(run, "rollback", "no savepoint: OK");
            break;
          }
          ASSERT_TRUE(b.rollback_to_savepoint().ok());
          pending = savepoints.back();
          savepoints.pop_back();
          run.trace.push_back("batch.rollback_to_savepoint");
          break;
        case 15:
          if (savepoints.empty()) break;
          ASSERT_TRUE(b.pop_savepoint().ok());
          savepoints.pop_back();
          run.trace.push_back("batch.pop_savepoint");
          break;
        case 16:
          if (rng() % 2 != 0) break;
          ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
          base = overlay(base, pending);
          pending = {};
          savepoints.clear();
          run.trace.push_back("commit_indexed(batch)  [the batch is reused]");
          break;
        case 17:
          if constexpr (SnapshotStore<S>) {
            if (snaps.size() >= 3) snaps.erase(snaps.begin());
            snaps.emplace_back(std::make_unique<Snap>(this->store().snapshot()), base);
            run.trace.push_back("snapshot #" + std::to_string(snaps.size() - 1));
          }
          break;
        case 18:
          if (!snaps.empty()) {
            snaps.erase(snaps.begin());
            run.trace.push_back("drop oldest snapshot");
          }
          break;
        case 19:
          if (rng() % 8 == 0) {
            this->flush_store();
            run.trace.push_back("store.flush");
          }
          break;
        case 20: {  // a store range made, a commit, then the range read: its point in time
          const KeyBounds bounds = random_bounds(rng);
          const ScanOrder order = rng() % 2 == 0 ? ScanOrder::kForward : ScanOrder::kReverse;
          auto range = std::as_const(this->store()).range_iter(space, bounds, order);
          auto wb = this->store().new_batch();
          wb.put(space, key, value);
          ASSERT_TRUE(this->store().commit(std::move(wb), WriteOptions{}).ok());
          const KeyValues got = drain(range);
          const KeyValues exp = expected_scan(base[si], bounds, order);
          base[si][key] = value;
          run.trace.push_back("store range_iter" + printable(bounds) + " made, store.put" + sp +
                              "\"" + printable(key) + "\" = " + value + ", range read");
          if (got != exp) {
            mismatch(
                run, "held store range",
                "range made before the commit: want " + printable(exp) + ", got " + printable(got));
          }
          break;
        }
        default: {  // a read of the batch only, point reads mostly
          const Model view = overlay(base, pending);
          check_reads(run, std::as_const(b), view, "batch", rng() % 3 == 0);
          break;
        }
      }
      check_reads(run, std::as_const(this->store()), base, "store", true);
      // Range reads build RocksDB's index: some steps read the batch by point only.
      check_reads(run, std::as_const(b), overlay(base, pending), "batch", rng() % 3 == 0);
      if constexpr (SnapshotStore<S>) {
        if (!snaps.empty()) {
          auto& [snap, model] = snaps[rng() % snaps.size()];
          check_reads(run, std::as_const(*snap), model, "snapshot", true);
        }
      }
      if (step % 64 == 63) {  // every key of the batch's view, and the whole scan
        const Model view = overlay(base, pending);
        for (std::size_t i = 0; i < 2; ++i) {
          const KeyValues got = drain(b.range_iter(space_of(i), {}, ScanOrder::kForward));
          const KeyValues exp = expected_scan(view[i], {}, ScanOrder::kForward);
          if (got != exp) {
            mismatch(run, "batch full scan", "want " + printable(exp) + ", got " + printable(got));
          }
        }
      }
    }
    // What the batch commits is what it showed.
    const Model final_view = overlay(base, pending);
    ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
    for (std::size_t i = 0; i < 2; ++i) {
      const KeyValues got = drain(this->store().prefix_iter(space_of(i), ""));
      const KeyValues exp = expected_scan(final_view[i], {}, ScanOrder::kForward);
      if (got != exp) {
        mismatch(run, "committed state", "want " + printable(exp) + ", got " + printable(got));
      }
    }
    for (const auto& [kind, n] : run.mismatches) {
      ADD_FAILURE() << "seed " << seed << ": " << n << " mismatches of kind \"" << kind << "\"";
    }
  }
};

TYPED_TEST_SUITE_P(IteratorModelSuite);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(IteratorModelSuite);

// 40 seeds of 500 steps each (STRATA_FUZZ_ITERATIONS seeds when set: a longer run).
TYPED_TEST_P(IteratorModelSuite, RandomOpsMatchAModel) {
  const auto seeds = static_cast<std::uint64_t>(fuzz_iterations(40));
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) this->run_model(seed * 7919, 500);
}

REGISTER_TYPED_TEST_SUITE_P(IteratorModelSuite, RandomOpsMatchAModel);

REGISTER_TYPED_TEST_SUITE_P(IteratorSuite, IterEmpty, IterSingle, IterMulti,
                            IterStaysAtItsPointInTime, IterSmallAndLargeMix, IterMultiWithDelete,
                            IterPrevMaxSkip, IterWithManyVersionsOfOneKey, DBIteratorBoundTest,
                            UpperBoundWithChangeDirection, SeekBackwardAfterOutOfUpperBound,
                            TestBoundsCheckingInDeltaIterator,
                            ReverseScanBelowAnUpperBoundThatIsAKey, TestIteraratorWithBase,
                            KeysThatArePrefixesOfEachOther, EmptyKeyAndExtremeBytes,
                            SeekPastTheEnds, BoundsEqualToExistingKeys, SavePointTest);

}  // namespace strata::testing
