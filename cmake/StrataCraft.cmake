# Finds what the craft component needs — libraft >= 0.22 (cowsql/raft) and libuv, through
# pkg-config — and defines the option STRATA_WITH_CRAFT (ON when both are found).
#
# libraft 0.15 (Debian 12's main section, the archived canonical release) is refused: it lacks
# the fix "don't commit entries from old terms by counting" (Raft's Figure 8) and appends no
# no-op entry on election. scripts/deps installs 0.22 from bookworm-backports.
include(CMakeDependentOption)

set(_strata_craft_ok OFF)
set(_strata_craft_why "pkg-config not found")
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(STRATA_RAFT QUIET IMPORTED_TARGET raft)
  pkg_check_modules(STRATA_UV QUIET IMPORTED_TARGET libuv)
  if(NOT STRATA_RAFT_FOUND)
    set(_strata_craft_why "pkg-config found no libraft (Debian: libraft-dev from bookworm-backports)")
  elseif(STRATA_RAFT_VERSION VERSION_LESS 0.22)
    set(_strata_craft_why
        "libraft ${STRATA_RAFT_VERSION} found, but craft needs >= 0.22: older releases lack the "
        "Raft Figure-8 fix (\"don't commit entries from old terms by counting\"); install "
        "libraft-dev from bookworm-backports (scripts/deps does)")
  elseif(NOT STRATA_UV_FOUND)
    set(_strata_craft_why "pkg-config found no libuv (Debian: libuv1-dev)")
  else()
    set(_strata_craft_ok ON)
  endif()
endif()

if(NOT _strata_craft_ok AND DEFINED CACHE{STRATA_WITH_CRAFT} AND "$CACHE{STRATA_WITH_CRAFT}")
  message(FATAL_ERROR "STRATA_WITH_CRAFT=ON but ${_strata_craft_why}")
endif()
cmake_dependent_option(STRATA_WITH_CRAFT
                       "Build the strata::craft component (strata beneath libraft)" ON
                       "_strata_craft_ok" OFF)
if(STRATA_WITH_CRAFT)
  message(STATUS "strata: craft ON (libraft ${STRATA_RAFT_VERSION}, libuv ${STRATA_UV_VERSION})")
else()
  message(STATUS "strata: craft OFF: ${_strata_craft_why}")
endif()
