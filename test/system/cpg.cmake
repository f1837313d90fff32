# CPG service on three real cohortd (test_cpg.py), through cpg_client, a scriptable client
# on our libcpg. Each case is its own ctest entry, bounded well under a minute.
add_executable(cpg_client ${CMAKE_CURRENT_LIST_DIR}/cpg_client.c
               ${CMAKE_CURRENT_LIST_DIR}/cpg_client_send.c ${CMAKE_CURRENT_LIST_DIR}/cpg_client_query.c)
target_link_libraries(cpg_client PRIVATE cpg)
find_program(COHORT_PYTHON3 python3)
if(COHORT_PYTHON3)
  foreach(t order kill9_restart procdown iteration zcb many idle_latency)
    add_test(NAME cpg_sys_${t}
             COMMAND ${COHORT_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_cpg.py ${CMAKE_BINARY_DIR} ${t})
    set_tests_properties(cpg_sys_${t} PROPERTIES LABELS system TIMEOUT 60 SKIP_RETURN_CODE 77)
  endforeach()
endif()
