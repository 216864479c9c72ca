#include "strata/core/allocator.h"

#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace strata {
namespace {

using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);

Mallctl find_mallctl() noexcept {
  return reinterpret_cast<Mallctl>(::dlsym(RTLD_DEFAULT, "mallctl"));
}

template <class T>
bool read_ctl(Mallctl ctl, const char* name, T* out) noexcept {
  std::size_t len = sizeof(T);
  return ctl(name, out, &len, nullptr, 0) == 0 && len == sizeof(T);
}

// Whether malloc() goes through jemalloc: its thread.allocated counter must grow by at least
// the size of an allocation made through the C library's malloc symbol.
bool malloc_is_jemalloc(Mallctl ctl) noexcept {
  std::uint64_t before = 0;
  std::uint64_t after = 0;
  if (!read_ctl(ctl, "thread.allocated", &before)) return false;
  // Through a volatile pointer so that the compiler cannot elide the malloc/free pair.
  void* (*volatile do_malloc)(std::size_t) = &std::malloc;
  void (*volatile do_free)(void*) = &std::free;
  constexpr std::size_t kProbe = 64 << 10;
  void* p = do_malloc(kProbe);
  const bool ok = read_ctl(ctl, "thread.allocated", &after);
  do_free(p);
  return ok && p != nullptr && after - before >= kProbe;
}

struct Detected {
  Mallctl ctl = nullptr;
  std::string name = "system";
};

const Detected& detected() noexcept {
  static const Detected d = [] {
    Detected out;
    Mallctl ctl = find_mallctl();
    if (ctl != nullptr && malloc_is_jemalloc(ctl)) {
      out.ctl = ctl;
      const char* version = nullptr;
      out.name = "jemalloc";
      if (read_ctl(ctl, "version", &version) && version != nullptr) {
        out.name += " ";
        out.name += version;
      }
    }
    return out;
  }();
  return d;
}

}  // namespace

bool allocator_is_jemalloc() noexcept { return detected().ctl != nullptr; }

std::string_view allocator_name() noexcept { return detected().name; }

Result<AllocatorStats> allocator_stats() {
  const Mallctl ctl = detected().ctl;
  if (ctl == nullptr) return Status::not_supported("the process allocator is not jemalloc");
  // Statistics are cached by jemalloc until the epoch is advanced.
  std::uint64_t epoch = 1;
  std::size_t len = sizeof(epoch);
  if (ctl("epoch", &epoch, &len, &epoch, sizeof(epoch)) != 0) {
    return Status::io_error("mallctl(epoch) failed");
  }
  AllocatorStats s;
  struct Field {
    const char* name;
    std::size_t* out;
  };
  for (const Field& f : {Field{"stats.allocated", &s.allocated}, Field{"stats.active", &s.active},
                         Field{"stats.resident", &s.resident}, Field{"stats.mapped", &s.mapped},
                         Field{"stats.metadata", &s.metadata}}) {
    if (!read_ctl(ctl, f.name, f.out)) {
      return Status::io_error(std::string("mallctl(") + f.name + ") failed");
    }
  }
  return s;
}

}  // namespace strata
