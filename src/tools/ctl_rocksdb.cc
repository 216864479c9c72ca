// strata-ctl rocksdb ... — a RocksDbStore's spaces (column families), key counts and
// compression; get and scan of one space; and the RocksDB kind of `strata-ctl checkpoint`.
// Opens the database read-only (no lock is taken, so it works beside a running process; it
// sees the state as of open).
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/options_util.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../rocksdb/wal_tail.h"
#include "checkpoint.h"
#include "commands.h"
#include "escape.h"
#include "strata/rocksdb/detail/database.h"

namespace strata::tools {
namespace {

const char* compression_name(::rocksdb::CompressionType t) {
  switch (t) {
    case ::rocksdb::kNoCompression:
      return "none";
    case ::rocksdb::kSnappyCompression:
      return "snappy";
    case ::rocksdb::kZlibCompression:
      return "zlib";
    case ::rocksdb::kBZip2Compression:
      return "bzip2";
    case ::rocksdb::kLZ4Compression:
      return "lz4";
    case ::rocksdb::kLZ4HCCompression:
      return "lz4hc";
    case ::rocksdb::kXpressCompression:
      return "xpress";
    case ::rocksdb::kZSTD:
      return "zstd";
    case ::rocksdb::kDisableCompressionOption:
      return "(default)";
    default:
      return "other";
  }
}

// A database opened read-only with every column family.
struct ReadOnlyDb {
  std::unique_ptr<::rocksdb::DB> db;
  std::vector<::rocksdb::ColumnFamilyHandle*> handles;
  std::vector<std::string> names;
  std::vector<::rocksdb::ColumnFamilyDescriptor> descriptors;  // from the OPTIONS file

  ~ReadOnlyDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }

  ::rocksdb::ColumnFamilyHandle* find(const std::string& name) const {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return handles[i];
    }
    return nullptr;
  }
};

std::unique_ptr<ReadOnlyDb> open_read_only(const std::string& path) {
  auto out = std::make_unique<ReadOnlyDb>();
  ::rocksdb::DBOptions db_options;
  ::rocksdb::ConfigOptions config;
  config.ignore_unknown_options = true;
  const ::rocksdb::Status loaded =
      ::rocksdb::LoadLatestOptions(config, path, &db_options, &out->descriptors);
  std::vector<std::string> cf_names;
  ::rocksdb::Status s = ::rocksdb::DB::ListColumnFamilies(::rocksdb::DBOptions(), path, &cf_names);
  if (!s.ok()) {
    std::cerr << "strata-ctl: cannot open RocksDB database at " << path << ": " << s.ToString()
              << "\n";
    return nullptr;
  }
  // strata's open refuses a database whose WAL holds damage no power cut explains
  // (src/rocksdb/wal_tail.h); RocksDB's read-only open below replays the WAL only up to it.
  const ::rocksdb::DBOptions& wal_options = loaded.ok() ? db_options : ::rocksdb::DBOptions();
  if (strata::detail::wal_check_applies(wal_options)) {
    const std::string wal_dir = wal_options.wal_dir.empty() ? path : wal_options.wal_dir;
    if (Status w = strata::detail::check_wal_files(path, wal_dir, /*read_only=*/true); !w.ok()) {
      std::cerr << "strata-ctl: warning: " << printable(w)
                << (w.is_corruption() ? "; what the WAL holds after it is not shown, and "
                                        "strata's open refuses this database"
                                      : "")
                << "\n";
    }
  }
  std::vector<::rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : cf_names) cfs.emplace_back(n, ::rocksdb::ColumnFamilyOptions());
  ::rocksdb::DB* raw = nullptr;
  ::rocksdb::DBOptions open_options;
  open_options.create_if_missing = false;
  open_options.info_log_level = ::rocksdb::InfoLogLevel::ERROR_LEVEL;
  s = ::rocksdb::DB::OpenForReadOnly(open_options, path, cfs, &out->handles, &raw);
  if (!s.ok()) {
    std::cerr << "strata-ctl: cannot open RocksDB database at " << path << ": " << s.ToString()
              << "\n";
    return nullptr;
  }
  out->db.reset(raw);
  out->names = cf_names;
  return out;
}

std::optional<std::string> parse_bytes(const std::string& text, bool hex) {
  return hex ? unhex_bytes(text) : unescape_bytes(text);
}

std::string show(std::string_view bytes, bool hex) {
  return hex ? hex_bytes(bytes) : escape_bytes(bytes);
}

int cmd_spaces(const std::string& path, bool exact) {
  auto db = open_read_only(path);
  if (!db) return 1;
  std::printf("%-24s %14s %12s %-10s %-12s\n", "space", exact ? "keys" : "keys(estimate)",
              "sst_bytes", "compress", "bottommost");
  for (std::size_t i = 0; i < db->names.size(); ++i) {
    auto* h = db->handles[i];
    std::uint64_t keys = 0, sst = 0;
    if (exact) {
      std::unique_ptr<::rocksdb::Iterator> it(db->db->NewIterator(::rocksdb::ReadOptions(), h));
      for (it->SeekToFirst(); it->Valid(); it->Next()) ++keys;
      if (!it->status().ok()) {
        std::cerr << "strata-ctl: scan of " << db->names[i]
                  << " failed: " << it->status().ToString() << "\n";
        return 1;
      }
    } else {
      db->db->GetIntProperty(h, "rocksdb.estimate-num-keys", &keys);
    }
    db->db->GetIntProperty(h, "rocksdb.total-sst-files-size", &sst);
    const char* comp = "?";
    const char* bottom = "?";
    for (const auto& d : db->descriptors) {
      if (d.name == db->names[i]) {
        comp = compression_name(d.options.compression);
        bottom = compression_name(d.options.bottommost_compression);
      }
    }
    std::printf("%-24s %14llu %12llu %-10s %-12s\n", escape_bytes(db->names[i]).c_str(),
                static_cast<unsigned long long>(keys), static_cast<unsigned long long>(sst), comp,
                bottom);
  }
  return 0;
}

int cmd_get(const std::string& path, const std::string& space, const std::string& key_text,
            bool hex_in, bool hex_out) {
  auto key = parse_bytes(key_text, hex_in);
  if (!key) {
    std::cerr << "strata-ctl: malformed key '" << key_text << "'\n";
    return 2;
  }
  auto db = open_read_only(path);
  if (!db) return 1;
  auto* h = db->find(space);
  if (h == nullptr) {
    std::cerr << "strata-ctl: no space '" << space << "' in " << path << "\n";
    return 2;
  }
  std::string value;
  auto s = db->db->Get(::rocksdb::ReadOptions(), h, *key, &value);
  if (s.IsNotFound()) {
    std::cerr << "strata-ctl: key not found\n";
    return 1;
  }
  if (!s.ok()) {
    std::cerr << "strata-ctl: get failed: " << s.ToString() << "\n";
    return 1;
  }
  std::cout << show(value, hex_out) << "\n";
  return 0;
}

int cmd_scan(const std::string& path, const std::string& space, const std::string& prefix_text,
             std::uint64_t limit, bool hex_in, bool hex_out) {
  auto prefix = parse_bytes(prefix_text, hex_in);
  if (!prefix) {
    std::cerr << "strata-ctl: malformed prefix '" << prefix_text << "'\n";
    return 2;
  }
  auto db = open_read_only(path);
  if (!db) return 1;
  auto* h = db->find(space);
  if (h == nullptr) {
    std::cerr << "strata-ctl: no space '" << space << "' in " << path << "\n";
    return 2;
  }
  std::unique_ptr<::rocksdb::Iterator> it(db->db->NewIterator(::rocksdb::ReadOptions(), h));
  std::uint64_t n = 0;
  for (it->Seek(*prefix); it->Valid() && it->key().starts_with(*prefix); it->Next()) {
    if (limit != 0 && n == limit) break;
    std::cout << show(it->key().ToStringView(), hex_out) << "\t"
              << show(it->value().ToStringView(), hex_out) << "\n";
    ++n;
  }
  if (!it->status().ok()) {
    std::cerr << "strata-ctl: scan failed: " << it->status().ToString() << "\n";
    return 1;
  }
  std::cerr << n << " keys\n";
  return 0;
}

// A checkpoint of a database opened read-only: nothing is flushed (the live WAL files are
// copied, SST files hard-linked), so the source is not modified. A process that has the
// database open may flush or compact meanwhile; create_checkpoint then fails (aborted) and
// says so, rather than write a copy that lacks what was flushed.
int rocksdb_checkpoint(const std::string& source, const std::string& dest) {
  auto db = open_read_only(source);
  if (!db) return 1;
  const Status s = strata::detail::create_checkpoint(db->db.get(), dest,
                                                     std::numeric_limits<std::uint64_t>::max());
  if (!s.ok()) {
    std::cerr << "strata-ctl: checkpoint of " << source << " failed: " << printable(s)
              << " (a database in use by another process may change during the copy: take "
                 "the checkpoint there, with RocksDbStore::checkpoint)\n";
    return s.is_invalid_argument() ? 2 : 1;
  }
  std::cerr << "checkpoint of " << source << " written to " << dest << "\n";
  return 0;
}

// Per column family (label "space"): RocksDB's key estimate and the bytes of SST files,
// memtables and pending compaction; and the database's background errors. A read-only open
// replays the WAL into memtables, so memtable bytes are those of the unflushed writes.
int rocksdb_stats(const std::string& dir) {
  auto db = open_read_only(dir);
  if (!db) return 1;
  metrics::Exporter out;
  struct Property {
    const char* property;
    const char* name;
    const char* help;
  };
  static constexpr Property kProperties[] = {
      {"rocksdb.estimate-num-keys", "rocksdb_estimated_keys",
       "keys, RocksDB's estimate (rocksdb.estimate-num-keys)"},
      {"rocksdb.total-sst-files-size", "rocksdb_sst_bytes", "bytes of SST files"},
      {"rocksdb.cur-size-all-mem-tables", "rocksdb_memtable_bytes", "bytes of memtables"},
      {"rocksdb.estimate-pending-compaction-bytes", "rocksdb_pending_compaction_bytes",
       "bytes compaction still has to rewrite (estimate)"},
  };
  for (std::size_t i = 0; i < db->names.size(); ++i) {
    metrics::Snapshot m;
    for (const Property& p : kProperties) {
      std::uint64_t v = 0;
      if (db->db->GetIntProperty(db->handles[i], p.property, &v)) {
        m.gauge(p.name, p.help, static_cast<double>(v));
      }
    }
    if (Status s = out.add(m, {{"store", "rocksdb"}, {"dir", dir}, {"space", db->names[i]}});
        !s.ok()) {
      std::cerr << "strata-ctl: " << printable(s) << "\n";
      return 1;
    }
  }
  std::cout << out.text();
  return 0;
}

bool is_rocksdb_directory(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec);
}

}  // namespace

StoreKind rocksdb_store_kind() {
  return {"rocksdb", &is_rocksdb_directory, &rocksdb_checkpoint, &rocksdb_stats};
}

void add_rocksdb_commands(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("rocksdb", "Inspect a RocksDbStore (read-only)");
  group->require_subcommand(1);

  auto* spaces = group->add_subcommand("spaces", "List spaces: key counts, size, compression");
  auto spaces_path = std::make_shared<std::string>();
  auto exact = std::make_shared<bool>(false);
  spaces->add_option("db", *spaces_path, "Database directory")->required();
  spaces->add_flag("--exact", *exact, "Count keys by scanning instead of estimating");
  spaces->callback(
      [&exit_code, spaces_path, exact] { exit_code = cmd_spaces(*spaces_path, *exact); });

  struct GetArgs {
    std::string path, space, key;
    bool hex_in = false, hex_out = false;
  };
  auto g = std::make_shared<GetArgs>();
  auto* get = group->add_subcommand("get", "Print the value of one key");
  get->add_option("db", g->path, "Database directory")->required();
  get->add_option("space", g->space, "Space (column family) name")->required();
  get->add_option("key", g->key, "Key, escaped (\\xHH for any byte, \\\\ for \\)")->required();
  get->add_flag("--key-hex", g->hex_in, "The key is given in hex");
  get->add_flag("--hex", g->hex_out, "Print the value in hex");
  get->callback(
      [&exit_code, g] { exit_code = cmd_get(g->path, g->space, g->key, g->hex_in, g->hex_out); });

  struct ScanArgs {
    std::string path, space, prefix;
    std::uint64_t limit = 0;
    bool hex_in = false, hex_out = false;
  };
  auto sc = std::make_shared<ScanArgs>();
  auto* scan = group->add_subcommand("scan", "Print key<TAB>value for the keys of a space");
  scan->add_option("db", sc->path, "Database directory")->required();
  scan->add_option("space", sc->space, "Space (column family) name")->required();
  scan->add_option("--prefix", sc->prefix, "Only keys starting with this (escaped)");
  scan->add_option("--limit", sc->limit, "Print at most this many keys (0: all)")
      ->check(kDecimalU64);
  scan->add_flag("--prefix-hex", sc->hex_in, "The prefix is given in hex");
  scan->add_flag("--hex", sc->hex_out, "Print keys and values in hex");
  scan->callback([&exit_code, sc] {
    exit_code = cmd_scan(sc->path, sc->space, sc->prefix, sc->limit, sc->hex_in, sc->hex_out);
  });
}

}  // namespace strata::tools
