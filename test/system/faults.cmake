# The fault campaign (test/faults/): five cohortd in network namespaces under random
# loss, partitions, one-way links, kill -9, SIGSTOP, restarts, a wrong key, forged
# packets and CPU starvation, with fault_client on every node and check_logs.py
# checking the clients' logs. `make faults` runs the long campaign; this is the short
# one (needs root; exits 77, reported as skipped, without network namespaces).
add_executable(fault_client ${CMAKE_CURRENT_LIST_DIR}/../faults/fault_client.c)
target_link_libraries(fault_client PRIVATE cpg)
find_program(COHORT_PYTHON3 python3)
if(COHORT_PYTHON3)
  add_test(NAME faults_short
           COMMAND ${COHORT_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/../faults/campaign.py
                   --build ${CMAKE_BINARY_DIR} --short)
  # The campaign stops itself (and cleans up) at its own deadline, well inside this.
  set_tests_properties(faults_short PROPERTIES LABELS system TIMEOUT 110 SKIP_RETURN_CODE 77
                       RESOURCE_LOCK cohort_netns)
endif()
if(COHORT_PYTHON3)
  # The checker itself, on a hand-written history and broken copies of it (no root).
  add_test(NAME faults_checker
           COMMAND ${COHORT_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/../faults/test_check_logs.py)
  set_tests_properties(faults_checker PROPERTIES LABELS unit TIMEOUT 30)
endif()
