// bench/common/sqlite_db.h — SQLite as the peer benchmarks use it: one connection in WAL mode
// with synchronous=FULL (a COMMIT returns once the WAL is fdatasync'ed: synced, in strata's
// words), exclusive locking (one process owns the store, as strata's stores flock theirs; the
// WAL index then lives in heap memory instead of a shared-memory file), and prepared
// statements kept for the whole run, as a careful application keeps them.
//
// Every SQLite error aborts the benchmark with its message.
//
// Thread-safety: one thread per object.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace strata::bench {

class SqliteDb {
 public:
  // Opens (creating) the database file `path` and sets the pragmas above.
  explicit SqliteDb(const std::string& path) {
    check(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
          "open");
    exec("PRAGMA locking_mode=EXCLUSIVE");
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
  }
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb() {
    for (sqlite3_stmt* s : statements_) sqlite3_finalize(s);
    sqlite3_close(db_);
  }

  // Runs `sql` (statements without results, or whose rows are ignored).
  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::fprintf(stderr, "sqlite %s: %s\n", sql, error != nullptr ? error : "?");
      std::abort();
    }
  }
  // A prepared statement, finalized with the connection.
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    check(sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr), sql);
    statements_.push_back(s);
    return s;
  }
  // Steps `s`, which must finish (no row), and resets it for the next use.
  void run(sqlite3_stmt* s) {
    if (row(s)) fail("step: unexpected row");
    sqlite3_reset(s);
  }
  // Steps `s`: true with a row, false when done. The caller resets it.
  bool row(sqlite3_stmt* s) {
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("step");
    return rc == SQLITE_ROW;
  }

  void check(int rc, const char* what) const {
    if (rc != SQLITE_OK) fail(what);
  }

  static void bind(sqlite3_stmt* s, int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
  static void bind(sqlite3_stmt* s, int i, std::string_view blob) {
    sqlite3_bind_blob(s, i, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
  }
  static std::string_view column_blob(sqlite3_stmt* s, int i) {
    const void* p = sqlite3_column_blob(s, i);
    return {static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i))};
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    std::fprintf(stderr, "sqlite %s: %s\n", what, sqlite3_errmsg(db_));
    std::abort();
  }

  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
};

}  // namespace strata::bench
