// The parts of strata/core/file.h that every FileSystem shares: read_file, and the path and
// directory helpers built on the interface.
#include "strata/core/file.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

namespace strata {

Result<std::string> read_small_file(FileSystem& fs, const std::string& path,
                                    std::uint64_t max_bytes) {
  {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs.open(path, OpenMode::kReadOnly));
    STRATA_ASSIGN_OR_RETURN(const std::uint64_t size, file->size());
    if (size > max_bytes) {
      return Status::corruption(path + ": " + std::to_string(size) + " bytes, more than the " +
                                std::to_string(max_bytes) + " such a file holds");
    }
  }
  STRATA_ASSIGN_OR_RETURN(std::string text, fs.read_file(path));
  if (text.size() > max_bytes) {  // it grew in between
    return Status::corruption(path + ": more than " + std::to_string(max_bytes) + " bytes");
  }
  return text;
}

Result<std::string> FileSystem::read_file(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, open(path, OpenMode::kReadOnly));
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t size, file->size());
  if (size > std::numeric_limits<std::size_t>::max() / 2) {
    return Status::io_error("read_file " + path + ": file too large");
  }
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    STRATA_ASSIGN_OR_RETURN(
        const std::size_t n,
        file->read_at(done, std::span<char>(out.data() + done, out.size() - done)));
    if (n == 0) break;  // the file shrank meanwhile
    done += n;
  }
  out.resize(done);
  return out;
}

std::string parent_dir(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

namespace {

// `path` made absolute, through symlinks as far as it exists, "." and ".." removed; the
// lexical form when the file system cannot say.
std::filesystem::path resolved(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) return std::filesystem::path(path).lexically_normal();
  std::filesystem::path p = std::filesystem::weakly_canonical(absolute, ec);
  if (ec) p = absolute.lexically_normal();
  if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  return p;
}

}  // namespace

Result<CheckpointPaths> checkpoint_paths(const std::string& source, const std::string& dest,
                                         std::string_view tmp_suffix) {
  std::string d = dest;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  if (d.empty()) return Status::invalid_argument("empty checkpoint directory");
  const std::filesystem::path src = resolved(source), dst = resolved(d);
  const auto [s_end, d_end] = std::mismatch(src.begin(), src.end(), dst.begin(), dst.end());
  if (s_end == src.end()) {
    return Status::invalid_argument("the checkpoint directory " + dest + " is " +
                                    (d_end == dst.end() ? "the source " : "inside the source ") +
                                    source + ": put it beside or outside the source");
  }
  CheckpointPaths out;
  out.tmp = d + std::string(tmp_suffix);
  out.dest = std::move(d);
  return out;
}

Result<bool> create_dirs_durably(FileSystem& fs, const std::string& dir) {
  if (dir.empty()) return Status::invalid_argument("create_dirs_durably: empty path");
  std::vector<std::string> missing;
  for (std::string p = dir; p != "." && p != "/";) {
    STRATA_ASSIGN_OR_RETURN(const bool exists, fs.exists(p));
    if (exists) break;
    missing.push_back(p);
    const std::string parent = parent_dir(p);
    if (parent == p) break;
    p = parent;
  }
  if (missing.empty()) {
    STRATA_RETURN_IF_ERROR(fs.create_dirs(dir));  // checks that it is a directory
    return false;
  }
  STRATA_RETURN_IF_ERROR(fs.create_dirs(dir));
  // Outermost first: a parent's entry is durable before its child's.
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    STRATA_RETURN_IF_ERROR(fs.sync_dir(parent_dir(*it)));
  }
  return true;
}

Status sync_ancestors(FileSystem& fs, const std::string& dir) {
  std::string p = parent_dir(dir);
  STRATA_RETURN_IF_ERROR(fs.sync_dir(p));
  while (p != "." && p != "/") {
    p = parent_dir(p);
    (void)fs.sync_dir(p);
  }
  return Status();
}

}  // namespace strata
