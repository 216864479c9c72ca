// A rocksdb::FileSystem that sends every write, sync, create, rename, remove and directory
// fsync of RocksDB through strata's FaultFileSystem (strata/testing/fault_fs.h), so that a
// RocksDbStore can be put through the same power cuts as strata's own formats: any subset of
// the sectors of unsynced writes landing, namespace changes lost without a directory fsync.
//
// Reads go straight to the real files: FaultFileSystem keeps the visible state on disk.
//
// Thread-safety: as FaultFileSystem (one mutex); RocksDB's background threads may use it.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <memory>
#include <string>
#include <utility>

#include "strata/testing/fault_fs.h"

namespace strata::testing {

inline ::rocksdb::IOStatus to_io_status(const Status& s) {
  if (s.ok()) return ::rocksdb::IOStatus::OK();
  if (s.is_not_found()) return ::rocksdb::IOStatus::PathNotFound(std::string(s.message()));
  return ::rocksdb::IOStatus::IOError(std::string(s.message()));
}

class FaultRocksDbFileSystem final : public ::rocksdb::FileSystemWrapper {
 public:
  explicit FaultRocksDbFileSystem(FaultFileSystem& fault)
      : FileSystemWrapper(::rocksdb::FileSystem::Default()), fault_(fault) {}

  const char* Name() const override { return "StrataFaultFileSystem"; }

  ::rocksdb::IOStatus NewWritableFile(const std::string& fname, const ::rocksdb::FileOptions&,
                                      std::unique_ptr<::rocksdb::FSWritableFile>* result,
                                      ::rocksdb::IODebugContext*) override {
    auto f = fault_.open(fname, OpenMode::kReadWriteCreate);
    if (!f) return to_io_status(f.error());
    if (Status s = (*f)->truncate(0); !s.ok()) return to_io_status(s);
    *result = std::make_unique<Writable>(std::move(*f), 0);
    return ::rocksdb::IOStatus::OK();
  }

  ::rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const ::rocksdb::FileOptions&,
                                         std::unique_ptr<::rocksdb::FSWritableFile>* result,
                                         ::rocksdb::IODebugContext*) override {
    auto f = fault_.open(fname, OpenMode::kReadWriteCreate);
    if (!f) return to_io_status(f.error());
    auto size = (*f)->size();
    if (!size) return to_io_status(size.error());
    *result = std::make_unique<Writable>(std::move(*f), *size);
    return ::rocksdb::IOStatus::OK();
  }

  ::rocksdb::IOStatus ReuseWritableFile(const std::string&, const std::string&,
                                        const ::rocksdb::FileOptions&,
                                        std::unique_ptr<::rocksdb::FSWritableFile>*,
                                        ::rocksdb::IODebugContext*) override {
    return ::rocksdb::IOStatus::NotSupported("ReuseWritableFile under FaultRocksDbFileSystem");
  }

  ::rocksdb::IOStatus NewRandomRWFile(const std::string&, const ::rocksdb::FileOptions&,
                                      std::unique_ptr<::rocksdb::FSRandomRWFile>*,
                                      ::rocksdb::IODebugContext*) override {
    return ::rocksdb::IOStatus::NotSupported("NewRandomRWFile under FaultRocksDbFileSystem");
  }

  ::rocksdb::IOStatus NewDirectory(const std::string& name, const ::rocksdb::IOOptions&,
                                   std::unique_ptr<::rocksdb::FSDirectory>* result,
                                   ::rocksdb::IODebugContext*) override {
    *result = std::make_unique<Directory>(fault_, name);
    return ::rocksdb::IOStatus::OK();
  }

  ::rocksdb::IOStatus DeleteFile(const std::string& fname, const ::rocksdb::IOOptions&,
                                 ::rocksdb::IODebugContext*) override {
    return to_io_status(fault_.remove(fname));
  }
  ::rocksdb::IOStatus DeleteDir(const std::string& dirname, const ::rocksdb::IOOptions&,
                                ::rocksdb::IODebugContext*) override {
    return to_io_status(fault_.remove(dirname));
  }
  ::rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                                 const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
    return to_io_status(fault_.rename(src, target));
  }
  ::rocksdb::IOStatus LinkFile(const std::string&, const std::string&, const ::rocksdb::IOOptions&,
                               ::rocksdb::IODebugContext*) override {
    return ::rocksdb::IOStatus::NotSupported("LinkFile under FaultRocksDbFileSystem");
  }
  ::rocksdb::IOStatus CreateDir(const std::string& dirname, const ::rocksdb::IOOptions&,
                                ::rocksdb::IODebugContext*) override {
    return to_io_status(fault_.create_dirs(dirname));
  }
  ::rocksdb::IOStatus CreateDirIfMissing(const std::string& dirname, const ::rocksdb::IOOptions&,
                                         ::rocksdb::IODebugContext*) override {
    return to_io_status(fault_.create_dirs(dirname));
  }
  ::rocksdb::IOStatus Truncate(const std::string& fname, size_t size, const ::rocksdb::IOOptions&,
                               ::rocksdb::IODebugContext*) override {
    auto f = fault_.open(fname, OpenMode::kReadWrite);
    if (!f) return to_io_status(f.error());
    return to_io_status((*f)->truncate(size));
  }

 private:
  class Writable final : public ::rocksdb::FSWritableFile {
   public:
    Writable(std::unique_ptr<File> file, std::uint64_t size)
        : file_(std::move(file)), size_(size) {}
    using ::rocksdb::FSWritableFile::Append;
    using ::rocksdb::FSWritableFile::PositionedAppend;
    ::rocksdb::IOStatus Append(const ::rocksdb::Slice& data, const ::rocksdb::IOOptions&,
                               ::rocksdb::IODebugContext*) override {
      Status s = file_->write_at(size_, std::string_view(data.data(), data.size()));
      if (s.ok()) size_ += data.size();
      return to_io_status(s);
    }
    ::rocksdb::IOStatus PositionedAppend(const ::rocksdb::Slice& data, uint64_t offset,
                                         const ::rocksdb::IOOptions&,
                                         ::rocksdb::IODebugContext*) override {
      Status s = file_->write_at(offset, std::string_view(data.data(), data.size()));
      if (s.ok()) size_ = std::max<std::uint64_t>(size_, offset + data.size());
      return to_io_status(s);
    }
    ::rocksdb::IOStatus Truncate(uint64_t size, const ::rocksdb::IOOptions&,
                                 ::rocksdb::IODebugContext*) override {
      Status s = file_->truncate(size);
      if (s.ok()) size_ = size;
      return to_io_status(s);
    }
    ::rocksdb::IOStatus Close(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
      return ::rocksdb::IOStatus::OK();
    }
    ::rocksdb::IOStatus Flush(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
      return ::rocksdb::IOStatus::OK();
    }
    ::rocksdb::IOStatus Sync(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
      return to_io_status(file_->sync());
    }
    ::rocksdb::IOStatus Fsync(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
      return to_io_status(file_->sync());
    }
    bool IsSyncThreadSafe() const override { return true; }
    uint64_t GetFileSize(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
      return size_;
    }

   private:
    std::unique_ptr<File> file_;
    std::uint64_t size_;
  };

  class Directory final : public ::rocksdb::FSDirectory {
   public:
    Directory(FaultFileSystem& fault, std::string name) : fault_(fault), name_(std::move(name)) {}
    ::rocksdb::IOStatus Fsync(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
      return to_io_status(fault_.sync_dir(name_));
    }
    ::rocksdb::IOStatus Close(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
      return ::rocksdb::IOStatus::OK();
    }

   private:
    FaultFileSystem& fault_;
    std::string name_;
  };

  FaultFileSystem& fault_;
};

}  // namespace strata::testing
