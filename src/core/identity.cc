// claim_directory and describe_directory (strata/core/identity.h).
#include "strata/core/identity.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strata {
namespace {

constexpr std::uint64_t kMarkerVersion = 1;
constexpr std::string_view kMarkerTemp = "STRATA.tmp";
// A marker is one short line ("strata <component> <version>\n"); a longer file is not one.
constexpr std::uint64_t kMaxMarkerBytes = 4096;

bool is_rocksdb_file(std::string_view n) {
  return n == "CURRENT" || n == "IDENTITY" || n.starts_with("MANIFEST-") ||
         n.starts_with("OPTIONS-") || n.ends_with(".sst") || n.ends_with(".blob");
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 5; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > 5) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

struct Marker {
  std::string component;
  std::uint64_t version = 0;  // saturated: a number too large to hold is a newer strata's
};

// Parses "strata <component> <version>\n" exactly: single spaces, a component of lower-case
// letters, digits and '-', a version of decimal digits >= 1, nothing after the line (its
// newline may be missing). nullopt when it is anything else.
std::optional<Marker> parse_marker(std::string_view text) {
  constexpr std::string_view kPrefix = "strata ";
  if (!text.starts_with(kPrefix)) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  if (text.ends_with('\n')) text.remove_suffix(1);
  const std::size_t space = text.find(' ');
  if (space == 0 || space == std::string_view::npos) return std::nullopt;
  Marker m;
  m.component = std::string(text.substr(0, space));
  if (!std::all_of(m.component.begin(), m.component.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      })) {
    return std::nullopt;
  }
  const std::string_view digits = text.substr(space + 1);
  if (digits.empty()) return std::nullopt;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    m.version = m.version > (UINT64_MAX - d) / 10 ? UINT64_MAX : m.version * 10 + d;
  }
  if (m.version == 0) return std::nullopt;
  return m;
}

Status write_marker(FileSystem& fs, const std::string& dir, std::string_view component) {
  // An unmarked directory may be new, made by an opener that failed or died before it fsynced
  // the parents: the marker then stands for a durable path, and later opens need not do this.
  STRATA_RETURN_IF_ERROR(sync_ancestors(fs, dir));
  const std::string tmp = dir + "/" + std::string(kMarkerTemp);
  {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs.open(tmp, OpenMode::kReadWriteCreate));
    STRATA_RETURN_IF_ERROR(f->truncate(0));
    STRATA_RETURN_IF_ERROR(f->write_at(
        0, "strata " + std::string(component) + " " + std::to_string(kMarkerVersion) + "\n"));
    STRATA_RETURN_IF_ERROR(f->sync());
  }
  const std::string marker = dir + "/" + std::string(kIdentityFile);
  if (Status s = fs.rename(tmp, marker); !s.ok()) {
    // Another opener claiming the directory at the same moment renamed the temporary file
    // (the same file, which both wrote the same line into) first: its marker is ours too.
    auto text = read_small_file(fs, marker, kMaxMarkerBytes);
    if (!text) return s;
    const auto m = parse_marker(*text);
    if (!m || m->component != component) return s;
  }
  return fs.sync_dir(dir);
}

}  // namespace

Status claim_directory(FileSystem& fs, const std::string& dir, std::string_view component,
                       const OwnsName& owns, bool read_only) {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.list_dir(dir));
  std::sort(names.begin(), names.end());
  const std::string what = "directory " + dir;
  std::optional<std::string> marker;  // the marker's text, unless missing or empty
  std::vector<std::string> rocksdb, foreign;
  for (const std::string& n : names) {
    if (n == kIdentityFile) {
      // An empty marker: a claim that raced another and was cut before it wrote the line (the
      // two share the temporary file; see write_marker). Written again below.
      STRATA_ASSIGN_OR_RETURN(std::string text,
                              read_small_file(fs, dir + "/" + n, kMaxMarkerBytes));
      if (!text.empty()) marker = std::move(text);
    } else if (n == kMarkerTemp) {
      continue;  // a marker that a crash stopped before its rename
    } else if (is_rocksdb_file(n)) {
      rocksdb.push_back(n);
    } else if (!owns(n)) {
      foreign.push_back(n);
    }
  }
  if (marker) {
    const auto m = parse_marker(*marker);
    if (!m) {
      return Status::invalid_argument(what + " has an identity marker strata cannot read (" +
                                      std::string(kIdentityFile) + "); it is not a strata " +
                                      std::string(component));
    }
    if (m->component != component) {
      return Status::invalid_argument(what + " belongs to a strata " + m->component + ", not a " +
                                      std::string(component));
    }
    if (m->version > kMarkerVersion) {
      return Status::not_supported(what + " was written by a newer strata (marker version " +
                                   std::to_string(m->version) + ")");
    }
  }
  if (!rocksdb.empty()) {
    return Status::invalid_argument(what + " holds a RocksDB database (" + join(rocksdb) +
                                    "), not a strata " + std::string(component));
  }
  if (!foreign.empty()) {
    return Status::invalid_argument(what + " holds files a strata " + std::string(component) +
                                    " does not own: " + join(foreign));
  }
  if (!marker && !read_only) return write_marker(fs, dir, component);
  return Status();
}

std::string describe_directory(FileSystem& fs, const std::string& dir) {
  auto names = fs.list_dir(dir);
  if (!names) return "nothing readable (" + names.error().to_string() + ")";
  if (names->empty()) return "nothing";
  for (const std::string& n : *names) {
    if (n == kIdentityFile) {
      auto text = read_small_file(fs, dir + "/" + n, kMaxMarkerBytes);
      if (text) {
        if (auto m = parse_marker(*text)) return "a strata " + m->component;
      }
    }
  }
  if (std::any_of(names->begin(), names->end(),
                  [](const std::string& n) { return is_rocksdb_file(n); })) {
    return "a RocksDB database";
  }
  std::sort(names->begin(), names->end());
  return "files " + join(*names);
}

}  // namespace strata
