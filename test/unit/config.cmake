# corosync.conf parser unit tests.
add_executable(test_config ${CMAKE_CURRENT_LIST_DIR}/test_config.c)
target_link_libraries(test_config PRIVATE cohort_config)
add_test(NAME config COMMAND test_config)
set_tests_properties(config PROPERTIES LABELS unit TIMEOUT 60)
