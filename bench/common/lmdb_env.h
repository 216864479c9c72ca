// bench/common/lmdb_env.h — the few LMDB calls the peer benchmarks share, in the idioms LMDB's
// documentation recommends: one environment per store, a write transaction per commit, and
// for reads one read-only transaction (and cursor) kept for reuse with mdb_txn_reset /
// mdb_txn_renew instead of one allocated per read.
//
// Every LMDB error aborts the benchmark with its message: a benchmark that goes on after a
// failed write measures nothing.
//
// Thread-safety: one thread per object (the benches are single-threaded).
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace strata::bench {

inline void lmdb_check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) {
    std::fprintf(stderr, "lmdb %s: %s\n", what, mdb_strerror(rc));
    std::abort();
  }
}

inline MDB_val lmdb_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view lmdb_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// An environment in directory `dir` (created when missing).
class LmdbEnv {
 public:
  // map_bytes: the map size (address space reserved; the file grows as pages are used).
  // max_dbs: named databases (0: only the main one). flags: mdb_env_open flags; 0 is LMDB's
  // default, durable commits (fdatasync of the data, then a synchronous meta-page write).
  LmdbEnv(const std::string& dir, std::size_t map_bytes, unsigned max_dbs, unsigned flags) {
    std::filesystem::create_directories(dir);
    lmdb_check(mdb_env_create(&env_), "env_create");
    lmdb_check(mdb_env_set_mapsize(env_, map_bytes), "set_mapsize");
    if (max_dbs > 0) lmdb_check(mdb_env_set_maxdbs(env_, max_dbs), "set_maxdbs");
    lmdb_check(mdb_env_open(env_, dir.c_str(), flags, 0644), "env_open");
  }
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;
  ~LmdbEnv() { mdb_env_close(env_); }

  MDB_env* get() const noexcept { return env_; }

  // Opens database `name` (null: the main one) with `flags` (e.g. MDB_INTEGERKEY). With
  // MDB_CREATE in `flags` it is created when missing (in a write transaction); without, it
  // must exist (a read-only transaction, as a reader opening a store would use).
  MDB_dbi open_db(const char* name, unsigned flags) {
    MDB_txn* txn = nullptr;
    lmdb_check(mdb_txn_begin(env_, nullptr, (flags & MDB_CREATE) != 0 ? 0 : MDB_RDONLY, &txn),
               "txn_begin");
    MDB_dbi dbi = 0;
    lmdb_check(mdb_dbi_open(txn, name, flags, &dbi), "dbi_open");
    lmdb_check(mdb_txn_commit(txn), "txn_commit");
    return dbi;
  }

  // Turns MDB_NOSYNC on or off: off, a commit returns once it is synced; on, once it is
  // written (survives a process crash, not a power loss).
  void set_nosync(bool on) { lmdb_check(mdb_env_set_flags(env_, MDB_NOSYNC, on ? 1 : 0), "flags"); }
  // Syncs everything committed so far.
  void sync() { lmdb_check(mdb_env_sync(env_, 1), "env_sync"); }

  // A write transaction; commit() makes it durable unless MDB_NOSYNC is on.
  class Write {
   public:
    explicit Write(MDB_env* env) { lmdb_check(mdb_txn_begin(env, nullptr, 0, &txn_), "begin"); }
    Write(const Write&) = delete;
    Write& operator=(const Write&) = delete;
    ~Write() {
      if (txn_ != nullptr) mdb_txn_abort(txn_);
    }
    void put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0) {
      MDB_val k = lmdb_val(key);
      MDB_val v = lmdb_val(value);
      lmdb_check(mdb_put(txn_, dbi, &k, &v, flags), "put");
    }
    // Room for a value of `size` bytes under `key`, to be written before the commit
    // (MDB_RESERVE: no copy through a caller's buffer).
    char* reserve(MDB_dbi dbi, std::string_view key, std::size_t size, unsigned flags = 0) {
      MDB_val k = lmdb_val(key);
      MDB_val v{size, nullptr};
      lmdb_check(mdb_put(txn_, dbi, &k, &v, flags | MDB_RESERVE), "put");
      return static_cast<char*>(v.mv_data);
    }
    void commit() {
      lmdb_check(mdb_txn_commit(txn_), "commit");
      txn_ = nullptr;
    }

   private:
    MDB_txn* txn_ = nullptr;
  };
  Write write() { return Write(env_); }

 private:
  MDB_env* env_ = nullptr;
};

// A read-only transaction and a cursor on one database, renewed for each read and reset
// after it, so that each read sees the latest commit (as a fresh transaction would) without
// allocating one.
class LmdbReader {
 public:
  LmdbReader(MDB_env* env, MDB_dbi dbi) : dbi_(dbi) {
    lmdb_check(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn_), "begin read");
    lmdb_check(mdb_cursor_open(txn_, dbi_, &cursor_), "cursor_open");
    mdb_txn_reset(txn_);
  }
  LmdbReader(const LmdbReader&) = delete;
  LmdbReader& operator=(const LmdbReader&) = delete;
  ~LmdbReader() {
    mdb_cursor_close(cursor_);
    mdb_txn_abort(txn_);
  }

  // Starts a read: renews the transaction.
  void begin() { lmdb_check(mdb_txn_renew(txn_), "txn_renew"); }
  // The cursor, renewed for the current read (begin() first).
  MDB_cursor* cursor() {
    lmdb_check(mdb_cursor_renew(txn_, cursor_), "cursor_renew");
    return cursor_;
  }
  // The value of `key` within the current read (begin() first); false when absent.
  bool get(std::string_view key, MDB_val& value) {
    MDB_val k = lmdb_val(key);
    const int rc = mdb_get(txn_, dbi_, &k, &value);
    if (rc == MDB_NOTFOUND) return false;
    lmdb_check(rc, "get");
    return true;
  }
  // Ends the read; the views it handed out become invalid.
  void end() { mdb_txn_reset(txn_); }

 private:
  MDB_dbi dbi_;
  MDB_txn* txn_ = nullptr;
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace strata::bench
