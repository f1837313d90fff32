# Wire codec unit tests.
add_executable(test_wire ${CMAKE_CURRENT_LIST_DIR}/test_wire.c
			 ${CMAKE_CURRENT_LIST_DIR}/test_wire_mcast.c
			 ${CMAKE_CURRENT_LIST_DIR}/test_wire_hb.c)
target_link_libraries(test_wire PRIVATE cohort_wire)
add_test(NAME wire COMMAND test_wire)
set_tests_properties(wire PROPERTIES LABELS unit)
