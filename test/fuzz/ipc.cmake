# IPC frame and CPG message decoders.
# fuzz_ipc_replay: the fuzz target with a deterministic mutation loop as its
# main; runs as the unit test fuzz_ipc_smoke (also under ASan+UBSan), replays
# crash files given as arguments, and writes the libFuzzer seed corpus.
set(_ipc_fuzz_srcs ${CMAKE_SOURCE_DIR}/src/ipc/ipc_wire.c ${CMAKE_SOURCE_DIR}/src/ipc/ipc_cpg.c
    ${CMAKE_SOURCE_DIR}/src/services/cpg_msg.c)
add_executable(fuzz_ipc_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_ipc.c ${_ipc_fuzz_srcs})
target_compile_definitions(fuzz_ipc_replay PRIVATE FUZZ_STANDALONE)
add_test(NAME fuzz_ipc_smoke COMMAND fuzz_ipc_replay)
set_tests_properties(fuzz_ipc_smoke PROPERTIES LABELS unit TIMEOUT 300)

# fuzz_ipc: the libFuzzer binary (clang only; see CMakeLists.txt).
if(COHORT_HAVE_LIBFUZZER)
  add_executable(fuzz_ipc ${CMAKE_CURRENT_LIST_DIR}/fuzz_ipc.c ${_ipc_fuzz_srcs})
  target_compile_options(fuzz_ipc PRIVATE ${COHORT_FUZZ_FLAGS} -fno-omit-frame-pointer)
  target_link_options(fuzz_ipc PRIVATE ${COHORT_FUZZ_FLAGS})
endif()
cohort_fuzz_tests(fuzz_ipc)
