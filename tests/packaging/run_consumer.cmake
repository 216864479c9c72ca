# Builds and runs tests/packaging/consumer against strata in one of three ways:
#   MODE=find_package     — `cmake --install` strata into a temporary prefix, then
#                            find_package(strata CONFIG REQUIRED) from that prefix;
#   MODE=add_subdirectory — the consumer vendors strata with add_subdirectory;
#   MODE=fetchcontent     — FetchContent_Declare(strata SOURCE_DIR ...).
cmake_minimum_required(VERSION 3.21)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGV}\n${out}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

set(extra_args)
if(MODE STREQUAL "find_package")
  set(prefix "${WORK_DIR}/prefix")
  run(${CMAKE_COMMAND} --install "${STRATA_BINARY_DIR}" --prefix "${prefix}" --config ${BUILD_TYPE})
  if(NOT EXISTS "${prefix}/lib/cmake/strata/strataConfig.cmake"
     AND NOT EXISTS "${prefix}/lib64/cmake/strata/strataConfig.cmake"
     AND NOT EXISTS "${prefix}/lib/x86_64-linux-gnu/cmake/strata/strataConfig.cmake")
    message(FATAL_ERROR "install produced no strataConfig.cmake under ${prefix}")
  endif()
  # Headers are installed per component: RocksDB's only with strata::rocksdb.
  if(WITH_ROCKSDB AND NOT EXISTS "${prefix}/include/strata/rocksdb/rocksdb_store.h")
    message(FATAL_ERROR "strata::rocksdb is installed but its headers are not")
  elseif(NOT WITH_ROCKSDB AND EXISTS "${prefix}/include/strata/rocksdb.h")
    message(FATAL_ERROR "a build without RocksDB installed the RocksDB headers")
  endif()
  if(NOT EXISTS "${prefix}/include/strata/raft/file_log_store.h")
    message(FATAL_ERROR "install produced no strata/raft headers under ${prefix}")
  endif()
  list(APPEND extra_args "-DCMAKE_PREFIX_PATH=${prefix}")
endif()

run(${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
    -DSTRATA_CONSUME_MODE=${MODE} -DSTRATA_SOURCE_DIR=${STRATA_SOURCE_DIR}
    -DCONSUMER_WITH_ROCKSDB=${WITH_ROCKSDB} ${extra_args})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build" --config ${BUILD_TYPE})
run("${WORK_DIR}/build/consumer" "${WORK_DIR}")
message(STATUS "consumer (${MODE}) built and ran")
