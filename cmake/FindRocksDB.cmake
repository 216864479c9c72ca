# FindRocksDB — fallback for systems whose RocksDB ships no CMake config (the config,
# RocksDBConfig.cmake, is preferred: find_package(RocksDB CONFIG) is tried first).
# Defines RocksDB::rocksdb, RocksDB_FOUND, RocksDB_VERSION, RocksDB_INCLUDE_DIR, RocksDB_LIBRARY.
#
# A static librocksdb.a needs its compression libraries too: they are added to the target's
# link interface when found (snappy, z, bz2, lz4, zstd), with Threads and dl.
find_path(RocksDB_INCLUDE_DIR NAMES rocksdb/db.h)
find_library(RocksDB_LIBRARY NAMES rocksdb)

if(RocksDB_INCLUDE_DIR AND EXISTS "${RocksDB_INCLUDE_DIR}/rocksdb/version.h")
  file(STRINGS "${RocksDB_INCLUDE_DIR}/rocksdb/version.h" _rocksdb_version_lines
       REGEX "^#define ROCKSDB_(MAJOR|MINOR|PATCH) [0-9]+")
  foreach(_part MAJOR MINOR PATCH)
    string(REGEX MATCH "ROCKSDB_${_part} ([0-9]+)" _m "${_rocksdb_version_lines}")
    set(_rocksdb_${_part} "${CMAKE_MATCH_1}")
  endforeach()
  set(RocksDB_VERSION "${_rocksdb_MAJOR}.${_rocksdb_MINOR}.${_rocksdb_PATCH}")
  unset(_rocksdb_version_lines)
  unset(_m)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(RocksDB
  REQUIRED_VARS RocksDB_LIBRARY RocksDB_INCLUDE_DIR
  VERSION_VAR RocksDB_VERSION)

if(RocksDB_FOUND AND NOT TARGET RocksDB::rocksdb)
  add_library(RocksDB::rocksdb UNKNOWN IMPORTED)
  set_target_properties(RocksDB::rocksdb PROPERTIES
    IMPORTED_LOCATION "${RocksDB_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${RocksDB_INCLUDE_DIR}")
  if(RocksDB_LIBRARY MATCHES "\\.a$")
    find_package(Threads REQUIRED)
    set(_rocksdb_deps Threads::Threads ${CMAKE_DL_LIBS})
    foreach(_lib snappy z bz2 lz4 zstd)
      find_library(RocksDB_${_lib}_LIBRARY NAMES ${_lib})
      mark_as_advanced(RocksDB_${_lib}_LIBRARY)
      if(RocksDB_${_lib}_LIBRARY)
        list(APPEND _rocksdb_deps "${RocksDB_${_lib}_LIBRARY}")
      endif()
    endforeach()
    set_property(TARGET RocksDB::rocksdb APPEND PROPERTY INTERFACE_LINK_LIBRARIES ${_rocksdb_deps})
    unset(_rocksdb_deps)
  endif()
endif()
mark_as_advanced(RocksDB_INCLUDE_DIR RocksDB_LIBRARY)
