# Wire codec fuzzing.
# fuzz_wire_replay: the fuzz target with a deterministic mutation loop as its
# main; runs as the unit test fuzz_wire_smoke (also under ASan+UBSan), replays
# crash files given as arguments, and writes the libFuzzer seed corpus.
add_executable(fuzz_wire_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_wire.c)
target_compile_definitions(fuzz_wire_replay PRIVATE FUZZ_STANDALONE)
target_link_libraries(fuzz_wire_replay PRIVATE cohort_wire)
add_test(NAME fuzz_wire_smoke COMMAND fuzz_wire_replay)
set_tests_properties(fuzz_wire_smoke PROPERTIES LABELS unit TIMEOUT 300)

# fuzz_wire: the libFuzzer binary (clang only; see CMakeLists.txt).
if(COHORT_HAVE_LIBFUZZER)
  get_target_property(_wire_dir cohort_wire SOURCE_DIR)
  get_target_property(_wire_srcs cohort_wire SOURCES)
  list(TRANSFORM _wire_srcs PREPEND ${_wire_dir}/)
  add_executable(fuzz_wire ${CMAKE_CURRENT_LIST_DIR}/fuzz_wire.c ${_wire_srcs})
  target_include_directories(fuzz_wire PRIVATE ${_wire_dir})
  target_compile_options(fuzz_wire PRIVATE ${COHORT_FUZZ_FLAGS} -fno-omit-frame-pointer)
  target_link_options(fuzz_wire PRIVATE ${COHORT_FUZZ_FLAGS})
endif()
cohort_fuzz_tests(fuzz_wire)
