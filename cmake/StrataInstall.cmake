# Install rules (LevelDB/fmt style): headers, the exported targets of each component, and a
# relocatable strataConfig.cmake with a version file.
include(CMakePackageConfigHelpers)

set(STRATA_CONFIG_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/strata")

# Headers per component: strata::strata's always; RocksDB's, craft's and the test suites' only
# when that component is built and installed (a header of a missing component would not
# compile against the installed package).
set(_strata_header_excludes)
if(NOT TARGET strata_rocksdb)
  list(APPEND _strata_header_excludes PATTERN "rocksdb" EXCLUDE PATTERN "rocksdb.h" EXCLUDE)
endif()
if(NOT TARGET strata_craft)
  list(APPEND _strata_header_excludes PATTERN "craft" EXCLUDE)
endif()
if(NOT TARGET strata_testing)
  list(APPEND _strata_header_excludes PATTERN "testing" EXCLUDE)
endif()
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/strata"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" ${_strata_header_excludes})
install(FILES "${PROJECT_BINARY_DIR}/include/strata/version.h"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/strata")

install(TARGETS strata EXPORT strataTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(EXPORT strataTargets NAMESPACE strata:: DESTINATION "${STRATA_CONFIG_DIR}")

if(TARGET strata_testing)
  install(TARGETS strata_testing EXPORT strataTestingTargets)
  install(EXPORT strataTestingTargets NAMESPACE strata:: DESTINATION "${STRATA_CONFIG_DIR}")
endif()
if(TARGET strata_rocksdb)
  install(TARGETS strata_rocksdb EXPORT strataRocksdbTargets
          ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
          LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}")
  install(EXPORT strataRocksdbTargets NAMESPACE strata:: DESTINATION "${STRATA_CONFIG_DIR}")
endif()

if(TARGET strata_craft)
  install(TARGETS strata_craft EXPORT strataCraftTargets
          ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
          LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}")
  install(EXPORT strataCraftTargets NAMESPACE strata:: DESTINATION "${STRATA_CONFIG_DIR}")
  # For C programs built without CMake: cc app.c $(pkg-config --cflags --libs strata-craft)
  set(STRATA_PC_EXTRA_LIBS "")
  if(Isal_FOUND)
    set(STRATA_PC_EXTRA_LIBS "-lisal")
  endif()
  # Relocatable: the prefix is found from the .pc file's own place.
  file(RELATIVE_PATH STRATA_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  configure_file("${PROJECT_SOURCE_DIR}/cmake/strata-craft.pc.in"
                 "${PROJECT_BINARY_DIR}/strata-craft.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/strata-craft.pc"
          DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif()

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/strataConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/strataConfig.cmake" INSTALL_DESTINATION "${STRATA_CONFIG_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/strataConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/strataConfig.cmake"
              "${PROJECT_BINARY_DIR}/strataConfigVersion.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/FindIsal.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/FindJemalloc.cmake"
        DESTINATION "${STRATA_CONFIG_DIR}")
if(EXISTS "${PROJECT_SOURCE_DIR}/cmake/FindRocksDB.cmake")
  install(FILES "${PROJECT_SOURCE_DIR}/cmake/FindRocksDB.cmake" DESTINATION "${STRATA_CONFIG_DIR}")
endif()
