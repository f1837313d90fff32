# CPG sync regression: a merge that adds groups (test_cpg_merge.c), on the fake ring of
# cpg.cmake.
add_executable(test_cpg_merge ${CMAKE_CURRENT_LIST_DIR}/test_cpg_merge.c)
target_link_libraries(test_cpg_merge PRIVATE test_cpg_harness)
add_test(NAME cpg_merge COMMAND test_cpg_merge)
set_tests_properties(cpg_merge PROPERTIES LABELS unit TIMEOUT 60)
