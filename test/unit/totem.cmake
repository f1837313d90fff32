add_executable(test_totem ${CMAKE_CURRENT_LIST_DIR}/test_totem.c ${CMAKE_CURRENT_LIST_DIR}/totem_fixture.c)
target_link_libraries(test_totem cohort_totem)
add_test(NAME totem_core COMMAND test_totem)
set_tests_properties(totem_core PROPERTIES LABELS unit TIMEOUT 120)
