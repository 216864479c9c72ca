# Builds and runs examples/craft_consumer (a C libraft program) against an installed strata:
#   1. `cmake --install` strata into a temporary prefix;
#   2. find_package(strata CONFIG REQUIRED COMPONENTS craft) from that prefix (a C project);
#   3. plain `cc main.c $(pkg-config --cflags --libs strata-craft)`, as a Makefile would.
# Each build runs the program (a one-node libraft cluster on strata storage, restarted once).
cmake_minimum_required(VERSION 3.21)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGV}\n${out}")
  endif()
  message(STATUS "${out}")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
run(${CMAKE_COMMAND} --install "${STRATA_BINARY_DIR}" --prefix "${prefix}" --config ${BUILD_TYPE})

run(${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
    "-DCMAKE_PREFIX_PATH=${prefix}")
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build" --config ${BUILD_TYPE})
run("${WORK_DIR}/build/craft_consumer" "${WORK_DIR}/data-cmake")

file(GLOB_RECURSE pc_files "${prefix}/*/strata-craft.pc")
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
execute_process(COMMAND pkg-config --cflags --libs strata-craft OUTPUT_VARIABLE flags
                RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config strata-craft failed")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${C_COMPILER} "${CONSUMER_DIR}/main.c" -o "${WORK_DIR}/craft_consumer_pc" ${flags})
run("${WORK_DIR}/craft_consumer_pc" "${WORK_DIR}/data-pkgconfig")
message(STATUS "craft consumer built with find_package and with pkg-config, and ran")
