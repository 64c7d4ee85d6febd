# Shared build rules: one static library per component, warnings as errors.
set(SIGIL_WARNINGS -Wall -Wextra -Werror -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
    -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 at -O3 reports impossible overlaps inside std::string concatenation (GCC bug 105329).
  list(APPEND SIGIL_WARNINGS -Wno-restrict)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  list(APPEND SIGIL_WARNINGS -Wno-gnu-zero-variadic-macro-arguments)
endif()

# Link with lld when the toolchain can (scripts/setup.sh installs it): the CI run links ~90
# executables twice, and with ASan+UBSan each is a ~250 MB binary that GNU ld takes 3-3.5 times
# as long to write (integration_test: 7.6 s with ld.bfd, 2.4 s with lld). Falls back to the
# default linker elsewhere.
include(CheckLinkerFlag)
check_linker_flag(CXX "-fuse-ld=lld" SIGIL_HAVE_LLD)
if(SIGIL_HAVE_LLD)
  add_link_options(-fuse-ld=lld)
endif()

if(SIGIL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # Test-only builds link position-dependent executables: at -O0 with UBSan every binary carries
  # ~100 MB of check metadata full of pointers, which a PIE must relocate (touching and copying
  # every page) on each start, and ctest starts a test binary per test and the tests start the
  # CLI hundreds of times. Measured: `sigil --help` 0.2 s -> 0.1 s of CPU; KeyLifecycle.* (6
  # integration tests) 14.6-18.3 s -> 10.4 s. Release builds stay PIE (ASLR).
  add_link_options(-no-pie)
endif()
if(SIGIL_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# sigil_library(NAME SRCS ... DEPS ...) -> target sigil_NAME, alias sigil::NAME
function(sigil_library NAME)
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  add_library(sigil_${NAME} STATIC ${A_SRCS})
  add_library(sigil::${NAME} ALIAS sigil_${NAME})
  target_include_directories(sigil_${NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(sigil_${NAME} PUBLIC ${A_DEPS})
  target_compile_options(sigil_${NAME} PRIVATE ${SIGIL_WARNINGS})
endfunction()

# sigil_executable(NAME SRCS ... DEPS ...)
function(sigil_executable NAME)
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${NAME} ${A_SRCS})
  target_link_libraries(${NAME} PRIVATE ${A_DEPS})
  target_compile_options(${NAME} PRIVATE ${SIGIL_WARNINGS})
  set_target_properties(${NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
endfunction()

# The test executables' common definitions, and in Debug builds (the ASan+UBSan test build) one
# precompiled header for all of them (GoogleTest, GoogleMock, nlohmann/json and the standard
# headers every test uses): parsed once per build instead of once per test file, ~20% of a test
# file's compile at -O0 with ASan (measured: kbs_test.cpp 22.1 s -> 17.3 s, flood_test.cpp
# 16.8 s -> 13.9 s), which keeps the 2-core CI run inside its budget. Not in optimised builds:
# there GCC 12 reports false -Wstringop-overread inside <string> through a precompiled header
# (tests/unit/broker/token_test.cpp at -O2), which -Werror turns into a failed build. Reuse needs
# identical flags, hence one place for them.
function(sigil_test_flags NAME)
  target_compile_options(${NAME} PRIVATE ${SIGIL_WARNINGS})
  target_compile_definitions(${NAME} PRIVATE
    SIGIL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    SIGIL_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared"
    SIGIL_BIN_DIR="${PROJECT_BINARY_DIR}/bin")
  if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
    return()
  endif()
  if(NOT TARGET sigil_test_pch)
    add_library(sigil_test_pch OBJECT ${PROJECT_SOURCE_DIR}/tests/support/pch.cpp)
    target_link_libraries(sigil_test_pch PRIVATE GTest::gmock GTest::gtest nlohmann_json::nlohmann_json)
    target_compile_options(sigil_test_pch PRIVATE ${SIGIL_WARNINGS})
    target_compile_definitions(sigil_test_pch PRIVATE
      SIGIL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      SIGIL_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared"
      SIGIL_BIN_DIR="${PROJECT_BINARY_DIR}/bin")
    target_precompile_headers(sigil_test_pch PRIVATE
      <gtest/gtest.h> <gmock/gmock.h> <nlohmann/json.hpp>
      <algorithm> <cstdint> <functional> <map> <memory> <optional> <string> <string_view> <vector>)
  endif()
  target_precompile_headers(${NAME} REUSE_FROM sigil_test_pch)
endfunction()

# sigil_test(NAME SRCS ... DEPS ... LABELS ...) -> gtest executable registered with CTest
function(sigil_test NAME)
  cmake_parse_arguments(A "" "" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT SIGIL_BUILD_TESTS)
    return()
  endif()
  add_executable(${NAME} ${A_SRCS})
  target_link_libraries(${NAME} PRIVATE ${A_DEPS} sigil::test_support GTest::gmock GTest::gtest_main)
  sigil_test_flags(${NAME})
  gtest_discover_tests(${NAME} PROPERTIES LABELS "${A_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()

# sigil_fuzz(NAME SRCS ... DEPS ...): a libFuzzer target (clang, SIGIL_FUZZ=ON) or, with g++,
# a gtest that replays tests/fuzz/corpus/NAME/* through the same LLVMFuzzerTestOneInput.
function(sigil_fuzz NAME)
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  if(SIGIL_FUZZ)
    add_executable(${NAME}_fuzz ${A_SRCS})
    target_link_libraries(${NAME}_fuzz PRIVATE ${A_DEPS})
    target_link_options(${NAME}_fuzz PRIVATE -fsanitize=fuzzer)
  elseif(SIGIL_BUILD_TESTS)
    # The replay driver is compiled once for every target (the corpus is its argument).
    if(NOT TARGET sigil_fuzz_corpus_main)
      add_library(sigil_fuzz_corpus_main OBJECT ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus_main.cpp)
      target_link_libraries(sigil_fuzz_corpus_main PUBLIC GTest::gtest)
      target_compile_options(sigil_fuzz_corpus_main PRIVATE ${SIGIL_WARNINGS})
    endif()
    add_executable(${NAME}_fuzz_replay ${A_SRCS} $<TARGET_OBJECTS:sigil_fuzz_corpus_main>)
    target_link_libraries(${NAME}_fuzz_replay PRIVATE ${A_DEPS} GTest::gtest)
    target_compile_options(${NAME}_fuzz_replay PRIVATE ${SIGIL_WARNINGS})
    add_test(NAME fuzz_replay.${NAME} COMMAND ${NAME}_fuzz_replay "${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${NAME}")
    set_tests_properties(fuzz_replay.${NAME} PROPERTIES LABELS "fuzz")
  endif()
endfunction()
