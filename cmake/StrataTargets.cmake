# Helpers shared by strata's own targets. Flags are PRIVATE to strata's targets; global flags
# are never touched.

# Warnings (and -Werror when STRATA_WERROR) for one of strata's own targets.
function(strata_target_warnings target)
  get_target_property(type ${target} TYPE)
  set(scope PRIVATE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    return()
  endif()
  target_compile_options(${target} ${scope}
    $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion
      -Wsign-conversion>
    # C++ only (craft has C sources, where GCC would warn about them).
    $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor> $<$<COMPILE_LANGUAGE:CXX>:-Wold-style-cast>
    $<$<AND:$<CXX_COMPILER_ID:GNU,Clang,AppleClang>,$<BOOL:${STRATA_WERROR}>>:-Werror>
    # GCC 12 reports -Wrestrict inside libstdc++'s std::string operator+ at -O3 (GCC bug
    # 105651, fixed in 13); the warning is wrong there, so it is off for GCC < 13 only.
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)
  if(STRATA_SANITIZE)
    target_compile_options(${target} ${scope} -fsanitize=${STRATA_SANITIZE}
                           -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} ${scope} -fsanitize=${STRATA_SANITIZE})
  endif()
endfunction()

# An executable of strata's own (test, bench, example, tool): warnings, sanitizers and, when
# STRATA_WITH_JEMALLOC, jemalloc as the process allocator.
function(strata_executable target)
  strata_target_warnings(${target})
  if(STRATA_WITH_JEMALLOC AND NOT STRATA_SANITIZE)
    target_link_libraries(${target} PRIVATE Jemalloc::jemalloc)
    target_compile_definitions(${target} PRIVATE STRATA_LINKED_JEMALLOC=1)
  endif()
endfunction()
