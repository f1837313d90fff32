# Quorum service with real cohortd processes on 127.0.x.y, observed through
# cohort-quorumtool (libquorum + libvotequorum); the 2/2 split uses network
# namespaces and exits 77 (skipped) where they are unavailable.
find_program(COHORT_PYTHON3 python3)
if(COHORT_PYTHON3)
  foreach(t three twonode wfa lms runtime badconf atb lib)
    add_test(NAME quorum_${t}
             COMMAND ${COHORT_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_quorum.py ${CMAKE_BINARY_DIR} ${t})
    set_tests_properties(quorum_${t} PROPERTIES LABELS system TIMEOUT 90 SKIP_RETURN_CODE 77)
  endforeach()
  set_tests_properties(quorum_atb PROPERTIES RESOURCE_LOCK cohort_netns)
endif()
