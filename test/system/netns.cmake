# cohortd in network namespaces (one per node, veth pairs on bridges), faults
# made with iptables inside the namespaces; see test_netns.py and netns.py.
# Needs root: without it, or without working netns/veth/iptables, each test
# prints the reason and exits 77 (reported as skipped).
find_program(COHORT_PYTHON3 python3)
if(COHORT_PYTHON3)
  foreach(t partition asym loss links)
    add_test(NAME netns_${t}
             COMMAND ${COHORT_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_netns.py ${CMAKE_BINARY_DIR} ${t})
    # The script stops itself (and cleans up) at 58 s; the ctest timeout is
    # only a backstop. The lock keeps namespace tests from running at the
    # same time as each other (timing-sensitive, and each builds a topology).
    set_tests_properties(netns_${t} PROPERTIES LABELS system TIMEOUT 75 SKIP_RETURN_CODE 77
                         RESOURCE_LOCK cohort_netns)
  endforeach()
endif()
