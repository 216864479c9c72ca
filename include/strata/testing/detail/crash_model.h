// strata/testing/detail/crash_model.h — the power-cut model behind FaultFileSystem
// (strata/testing/fault_fs.h): what is durable, what is not yet, and which of the not-yet part
// a power cut lets through.
//
// The real directory tree holds the *visible* state (what a reader on the running machine
// sees). The model keeps, beside it, the *durable* state and the operations since:
//
//   * per file (an Inode): its content as of its last fdatasync, and the writes, truncates and
//     preallocations issued since, in order;
//   * per directory (a DirState): its entries (name -> inode) as of its last fsync, and the
//     namespace operations issued since — link (a create, a mkdir, the new name of a rename) and
//     unlink (a remove, the old name of a rename) — in one global order. The two halves of a
//     rename form one group: kept or lost together; an fsync of either directory makes the
//     whole rename durable.
//
// A directory rename is a rename of its inode like a file's (kept or lost as one group); the
// directory's own entries and pending operations move with it, and everything under it is read
// into the model first, so that a crash can put the whole subtree back under either name.
//
// resolve() picks one crash state (see CrashMode) and rewrites the real tree to it: every
// tracked directory, wherever its surviving entry puts it, holds exactly its surviving entries,
// every surviving file its surviving content. Directories and files that the model never saw
// are left alone: they were durable before the model started.
//
// Thread-safety: none; FaultFileSystem serializes every call with its mutex.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/file.h"

namespace strata::testing {

// What a power cut does to the state that is not durable (FaultFileSystem::crash).
enum class CrashMode : std::uint8_t {
  kDropUnsynced,  // nothing unsynced survives: no write, no namespace change
  kKeepUnsynced,  // everything survives (a process crash: the OS keeps it all)
  kRandomSubset,  // each unsynced write, truncate and namespace change survives whole or not
                  // at all, independently (w.p. 1/2)
  kTearLast,      // every operation survives except each file's last write, of which a prefix
                  // of its sectors lands
  kRandomTorn,    // each sector of each unsynced write lands or not, independently — any
                  // subset, in any order; truncates and namespace changes survive w.p. 1/2; an
                  // extending write may leave the new file size without its data (zeros)
  kRandom,        // one of the above, chosen per file and per namespace change
};

// Which cut points a sweep tries: every `crash_stride()`-th one, from its first. 1 (every cut)
// unless STRATA_CRASH_STRIDE says otherwise: CI's sanitizer build sets it, as a sanitized sweep
// finds its memory errors on a sample as well and costs several times the plain run, which
// tries every cut.
inline std::uint64_t crash_stride() {
  const char* env = std::getenv("STRATA_CRASH_STRIDE");
  if (env == nullptr) return 1;
  const unsigned long long k = std::strtoull(env, nullptr, 10);
  return k == 0 ? 1 : static_cast<std::uint64_t>(k);
}
// Whether a sweep over cut points 0..last tries the i-th: every crash_stride()-th, and the last.
inline bool crash_cut_sampled(std::uint64_t i, std::uint64_t last) {
  return i % crash_stride() == 0 || i == last;
}

// The mode's name without its k ("DropUnsynced"), for test names and failure messages.
inline const char* crash_mode_name(CrashMode m) {
  switch (m) {
    case CrashMode::kDropUnsynced:
      return "DropUnsynced";
    case CrashMode::kKeepUnsynced:
      return "KeepUnsynced";
    case CrashMode::kRandomSubset:
      return "RandomSubset";
    case CrashMode::kTearLast:
      return "TearLast";
    case CrashMode::kRandomTorn:
      return "RandomTorn";
    case CrashMode::kRandom:
      return "Random";
  }
  return "?";
}

namespace detail {

struct PendingWrite {
  enum class Kind : std::uint8_t { kWrite, kTruncate, kExtend };
  Kind kind = Kind::kWrite;
  std::uint64_t offset = 0;  // write offset, or the new size of a truncate/extend
  std::string data;          // bytes of a write
};

struct Inode {
  bool is_dir = false;
  // Whether `durable` holds the file's durable content. A file the model never wrote to,
  // moved or removed is not loaded: its content on disk is durable as it is.
  bool loaded = false;
  std::string durable;
  std::vector<PendingWrite> pending;
};

struct NamespaceOp {
  bool link = true;  // link: name -> inode; unlink: name removed
  std::string dir;
  std::string name;
  std::shared_ptr<Inode> inode;  // link only
  std::uint64_t group = 0;       // ops of one rename share a group
};

struct DirState {
  std::map<std::string, std::shared_ptr<Inode>> durable;  // as of the last fsync
  std::map<std::string, std::shared_ptr<Inode>> visible;  // now
};

class CrashModel {
 public:
  CrashModel(FileSystem& base, std::uint64_t seed) : base_(base), rng_(seed) {}

  // Sector (or page) size at which unsynced writes tear. Default: 512.
  void set_sector_size(std::uint64_t bytes) { sector_ = std::max<std::uint64_t>(bytes, 1); }
  std::uint64_t sector_size() const { return sector_; }

  static std::string normalize(std::string p) {
    std::string out;
    out.reserve(p.size());
    for (char c : p) {
      if (c == '/' && !out.empty() && out.back() == '/') continue;
      out += c;
    }
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
  }
  static std::string parent_of(const std::string& path) { return parent_dir(path); }
  static std::string name_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
  }

  // The state of directory `dir`, read from disk (all of it durable) the first time.
  Result<DirState*> dir(const std::string& dir_path) {
    const std::string d = normalize(dir_path);
    if (auto it = dirs_.find(d); it != dirs_.end()) return &it->second;
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, base_.list_dir(d));
    DirState& ds = dirs_[d];
    for (const std::string& n : names) {
      auto inode = std::make_shared<Inode>();
      inode->is_dir = base_.list_dir(d + "/" + n).has_value();
      ds.durable.emplace(n, inode);
      ds.visible.emplace(n, std::move(inode));
    }
    return &ds;
  }

  // The inode at `path`; one is made for a file that exists on disk but the model has not
  // seen (it was there, durable, before). nullptr when nothing is there.
  Result<std::shared_ptr<Inode>> inode_at(const std::string& path) {
    const std::string p = normalize(path);
    STRATA_ASSIGN_OR_RETURN(DirState * ds, dir(parent_of(p)));
    const std::string n = name_of(p);
    if (auto it = ds->visible.find(n); it != ds->visible.end()) return it->second;
    STRATA_ASSIGN_OR_RETURN(const bool exists, base_.exists(p));
    if (!exists) return std::shared_ptr<Inode>();
    auto inode = std::make_shared<Inode>();
    inode->is_dir = base_.list_dir(p).has_value();
    ds->durable.emplace(n, inode);
    ds->visible.emplace(n, inode);
    return inode;
  }

  // Reads the durable content of an untouched file from disk (before it is written, moved or
  // removed).
  Status load(Inode& inode, const std::string& path) {
    if (inode.loaded || inode.is_dir) return Status();
    STRATA_ASSIGN_OR_RETURN(inode.durable, base_.read_file(path));
    inode.loaded = true;
    return Status();
  }

  void on_link(const std::string& path, std::shared_ptr<Inode> inode, std::uint64_t group = 0) {
    const std::string p = normalize(path);
    DirState& ds = dirs_[parent_of(p)];  // REQUIRES: dir(parent) was called
    ds.visible[name_of(p)] = inode;
    ops_.push_back(NamespaceOp{true, parent_of(p), name_of(p), std::move(inode),
                               group != 0 ? group : ++groups_});
  }
  void on_unlink(const std::string& path, std::uint64_t group = 0) {
    const std::string p = normalize(path);
    DirState& ds = dirs_[parent_of(p)];
    ds.visible.erase(name_of(p));
    ops_.push_back(
        NamespaceOp{false, parent_of(p), name_of(p), nullptr, group != 0 ? group : ++groups_});
  }
  std::uint64_t new_group() { return ++groups_; }

  // A new, empty directory at `path` (its own entries start empty and durable).
  void on_mkdir(const std::string& path) {
    const std::string p = normalize(path);
    auto inode = std::make_shared<Inode>();
    inode->is_dir = true;
    dirs_[p] = DirState{};
    on_link(p, std::move(inode));
  }

  // Reads the subtree under directory `path` into the model (every directory tracked, every
  // file loaded): it is about to move, and a crash may put it back under either name.
  Status track_subtree(const std::string& path) {
    const std::string p = normalize(path);
    STRATA_ASSIGN_OR_RETURN(DirState * ds, dir(p));
    std::vector<std::pair<std::string, std::shared_ptr<Inode>>> children(ds->visible.begin(),
                                                                         ds->visible.end());
    for (const auto& [name, inode] : children) {
      if (inode->is_dir) {
        STRATA_RETURN_IF_ERROR(track_subtree(p + "/" + name));
      } else {
        STRATA_RETURN_IF_ERROR(load(*inode, p + "/" + name));
      }
    }
    return Status();
  }

  // The directory tracked at `from` (and everything tracked under it) is now at `to`; the
  // rename's link and unlink are recorded separately (on_link, on_unlink). REQUIRES:
  // track_subtree(from) before the rename.
  void on_move_dir(const std::string& from_path, const std::string& to_path) {
    const std::string from = normalize(from_path), to = normalize(to_path);
    const auto moved = [&](const std::string& p) {
      return p == from || (p.size() > from.size() && p.compare(0, from.size(), from) == 0 &&
                           p[from.size()] == '/');
    };
    std::vector<std::string> keys;
    for (const auto& [d, ds] : dirs_) {
      if (moved(d)) keys.push_back(d);
    }
    for (const std::string& k : keys) {
      auto node = dirs_.extract(k);
      node.key() = to + k.substr(from.size());
      dirs_.insert(std::move(node));
    }
    for (NamespaceOp& op : ops_) {
      if (moved(op.dir)) op.dir = to + op.dir.substr(from.size());
    }
  }

  // fsync of `dir`: every namespace change in it (and the other half of a rename) is durable.
  void on_sync_dir(const std::string& dir_path) {
    const std::string d = normalize(dir_path);
    std::set<std::uint64_t> durable_groups;
    for (const NamespaceOp& op : ops_) {
      if (op.dir == d) durable_groups.insert(op.group);
    }
    if (durable_groups.empty()) return;
    std::vector<NamespaceOp> rest;
    for (NamespaceOp& op : ops_) {
      if (durable_groups.count(op.group) != 0) {
        apply(dirs_[op.dir].durable, op);
      } else {
        rest.push_back(std::move(op));
      }
    }
    ops_ = std::move(rest);
  }

  static void on_write(Inode& inode, std::uint64_t offset, std::string_view data) {
    inode.pending.push_back(PendingWrite{PendingWrite::Kind::kWrite, offset, std::string(data)});
  }
  static void on_truncate(Inode& inode, std::uint64_t size, bool extend_only) {
    inode.pending.push_back(PendingWrite{
        extend_only ? PendingWrite::Kind::kExtend : PendingWrite::Kind::kTruncate, size, {}});
  }
  // fdatasync: the content is durable (the file's name is not: that takes the directory's).
  static void on_sync(Inode& inode) {
    for (const PendingWrite& w : inode.pending) apply_whole(inode.durable, w);
    inode.pending.clear();
  }
  // A failed fdatasync on Linux: the write-back may have got some of the pages out before the
  // error (any subset of the unsynced writes' sectors: none, some, or all), and the kernel may
  // mark the pages it could not write clean, so they stay readable in the page cache but never
  // reach the disk, not even through a later fdatasync (which reports nothing). The unsynced
  // changes leave the model: a power cut shows the content as of the last sync with what of
  // them `lands` lets through (kRandomTorn: a random subset of their sectors, each truncate or
  // extension w.p. 1/2; kRandom: one mode, picked here), whatever is synced later.
  void on_failed_sync(Inode& inode, CrashMode lands) {
    if (lands == CrashMode::kRandom) lands = static_cast<CrashMode>(rng_() % 5);
    if (inode.loaded) inode.durable = crash_content(inode, lands);
    inode.pending.clear();
  }

  std::uint64_t unsynced_bytes() const {
    std::uint64_t n = 0;
    std::set<const Inode*> seen;
    for (const auto& [path, ds] : dirs_) {
      for (const auto& [name, inode] : ds.visible) {
        if (!seen.insert(inode.get()).second) continue;
        for (const PendingWrite& w : inode->pending) n += w.data.size();
      }
    }
    return n;
  }

  // Picks a crash state by `mode` and rewrites the real tree to it; the model then starts
  // afresh (everything on disk is durable).
  void resolve(CrashMode mode) {
    // 1. Namespace: durable entries plus the surviving changes, in order.
    std::map<std::string, std::map<std::string, std::shared_ptr<Inode>>> entries;
    for (const auto& [d, ds] : dirs_) entries[d] = ds.durable;
    std::map<std::uint64_t, bool> kept;
    for (const NamespaceOp& op : ops_) {
      auto [it, fresh] = kept.emplace(op.group, false);
      if (fresh) it->second = keep_namespace_op(mode);
      if (it->second) apply(entries[op.dir], op);
    }
    // 2. Which tracked directory each directory inode is (a renamed one's entries are kept
    // under its new name): found through its parent's visible entry.
    std::map<const Inode*, std::string> tracked;
    for (const auto& [d, ds] : dirs_) {
      if (parent_of(d) == d) continue;
      auto parent = dirs_.find(parent_of(d));
      if (parent == dirs_.end()) continue;
      auto e = parent->second.visible.find(name_of(d));
      if (e != parent->second.visible.end() && e->second->is_dir) {
        tracked.emplace(e->second.get(), d);
      }
    }
    // 3. From each root (a tracked directory whose parent is not: it was there, durable,
    // before), parents first: a directory that did not survive takes its subtree with it.
    // Content is computed once per inode (hard links share it).
    std::map<const Inode*, std::string> contents;
    std::function<void(const std::string&, const std::string&)> materialize =
        [&](const std::string& key, const std::string& at) {
          (void)base_.create_dirs(at);
          const auto& names = entries[key];
          if (auto on_disk = base_.list_dir(at); on_disk.has_value()) {
            for (const std::string& n : *on_disk) {
              auto e = names.find(n);
              if (e == names.end() || e->second->is_dir != is_dir_on_disk(at + "/" + n)) {
                remove_tree(at + "/" + n);
              }
            }
          }
          for (const auto& [n, inode] : names) {
            const std::string p = at + "/" + n;
            if (inode->is_dir) {
              (void)base_.create_dirs(p);
              if (auto t = tracked.find(inode.get()); t != tracked.end()) materialize(t->second, p);
              continue;
            }
            if (!inode->loaded) continue;  // untouched: on disk as it was
            auto c = contents.find(inode.get());
            if (c == contents.end()) {
              CrashMode m = mode == CrashMode::kRandom ? static_cast<CrashMode>(rng_() % 5) : mode;
              c = contents.emplace(inode.get(), crash_content(*inode, m)).first;
            }
            write_whole(p, c->second);
          }
        };
    for (const auto& [d, ds] : dirs_) {
      const std::string parent = parent_of(d);
      if (parent != d && dirs_.count(parent) != 0) continue;  // not a root
      // A root below a directory that did not survive went with it.
      if (parent != d && !is_dir_on_disk(parent)) continue;
      materialize(d, d);
    }
    dirs_.clear();
    ops_.clear();
  }

  // Flips a bit of the durable content too (a loaded file); false when not loaded or shorter.
  bool flip_durable(const std::string& path, std::uint64_t offset, char mask) {
    const std::string p = normalize(path);
    auto d = dirs_.find(parent_of(p));
    if (d == dirs_.end()) return false;
    auto it = d->second.visible.find(name_of(p));
    if (it == d->second.visible.end() || !it->second->loaded) return false;
    std::string& c = it->second->durable;
    if (offset >= c.size()) return false;
    c[static_cast<std::size_t>(offset)] =
        static_cast<char>(c[static_cast<std::size_t>(offset)] ^ mask);
    return true;
  }

  // The content `path` would have after a kDropUnsynced crash, if its name survived.
  Result<std::optional<std::string>> durable_content(const std::string& path) {
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, inode_at(path));
    if (!inode || inode->is_dir) return std::optional<std::string>();
    if (!inode->loaded) {
      STRATA_ASSIGN_OR_RETURN(std::string c, base_.read_file(normalize(path)));
      return std::optional<std::string>(std::move(c));
    }
    return std::optional<std::string>(inode->durable);
  }

 private:
  static void apply(std::map<std::string, std::shared_ptr<Inode>>& entries, const NamespaceOp& op) {
    if (op.link) {
      entries[op.name] = op.inode;
    } else {
      entries.erase(op.name);
    }
  }

  bool coin() { return (rng_() & 1U) != 0; }

  bool keep_namespace_op(CrashMode mode) {
    switch (mode) {
      case CrashMode::kDropUnsynced:
        return false;
      case CrashMode::kKeepUnsynced:
      case CrashMode::kTearLast:
        return true;
      default:
        return coin();
    }
  }

  static void apply_whole(std::string& c, const PendingWrite& w) {
    switch (w.kind) {
      case PendingWrite::Kind::kWrite: {
        const auto end = static_cast<std::size_t>(w.offset) + w.data.size();
        if (c.size() < end) c.resize(end, '\0');
        std::copy(w.data.begin(), w.data.end(), c.begin() + static_cast<std::ptrdiff_t>(w.offset));
        break;
      }
      case PendingWrite::Kind::kTruncate:
        c.resize(static_cast<std::size_t>(w.offset), '\0');
        break;
      case PendingWrite::Kind::kExtend:
        if (c.size() < w.offset) c.resize(static_cast<std::size_t>(w.offset), '\0');
        break;
    }
  }

  // Lands the sectors of write `w` for which land(k) is true (k counts the write's sectors).
  void apply_sectors(std::string& c, const PendingWrite& w, const std::function<bool()>& land,
                     bool size_may_land) {
    const std::uint64_t end = w.offset + w.data.size();
    std::uint64_t at = w.offset;
    while (at < end) {
      const std::uint64_t piece_end = std::min(end, (at / sector_ + 1) * sector_);
      if (land()) {
        apply_whole(c, PendingWrite{PendingWrite::Kind::kWrite, at,
                                    w.data.substr(static_cast<std::size_t>(at - w.offset),
                                                  static_cast<std::size_t>(piece_end - at))});
      }
      at = piece_end;
    }
    // The new size may reach the disk without the data (which then reads as zeros).
    if (size_may_land && c.size() < end && rng_() % 4 == 0) c.resize(static_cast<std::size_t>(end));
  }

  std::string crash_content(const Inode& inode, CrashMode mode) {
    std::string c = inode.durable;
    const auto& ops = inode.pending;
    std::size_t last_write = ops.size();
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind == PendingWrite::Kind::kWrite) last_write = i;
    }
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const PendingWrite& w = ops[i];
      switch (mode) {
        case CrashMode::kDropUnsynced:
          return c;
        case CrashMode::kKeepUnsynced:
          apply_whole(c, w);
          break;
        case CrashMode::kRandomSubset:
          if (coin()) apply_whole(c, w);
          break;
        case CrashMode::kTearLast:
          if (i != last_write) {
            apply_whole(c, w);
          } else {
            // A prefix of the sectors: the first `keep` of them.
            const std::uint64_t first_sector = w.offset / sector_;
            const std::uint64_t last_sector = (w.offset + w.data.size() + sector_ - 1) / sector_;
            const std::uint64_t count = last_sector - first_sector;
            const std::uint64_t keep = count == 0 ? 0 : rng_() % count;
            std::uint64_t k = 0;
            apply_sectors(
                c, w, [&] { return k++ < keep; }, false);
          }
          break;
        case CrashMode::kRandomTorn:
        case CrashMode::kRandom:
          if (w.kind == PendingWrite::Kind::kWrite) {
            apply_sectors(
                c, w, [&] { return coin(); }, true);
          } else if (coin()) {
            apply_whole(c, w);
          }
          break;
      }
    }
    return c;
  }

  bool is_dir_on_disk(const std::string& p) { return base_.list_dir(p).has_value(); }

  void remove_tree(const std::string& p) {
    if (auto names = base_.list_dir(p); names.has_value()) {
      for (const std::string& n : *names) remove_tree(p + "/" + n);
    }
    (void)base_.remove(p);
  }

  void write_whole(const std::string& p, const std::string& content) {
    auto f = base_.open(p, OpenMode::kReadWriteCreate);
    if (!f.has_value()) return;
    (void)(*f)->truncate(0);
    (void)(*f)->write_at(0, content);
    (void)(*f)->truncate(content.size());
  }

  FileSystem& base_;
  std::mt19937_64 rng_;
  std::uint64_t sector_ = 512;
  std::map<std::string, DirState> dirs_;
  std::vector<NamespaceOp> ops_;  // namespace changes not yet durable, in issue order
  std::uint64_t groups_ = 0;
};

}  // namespace detail
}  // namespace strata::testing
