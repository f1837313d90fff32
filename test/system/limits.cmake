# Resource limits and flow control (test_limits.py, docs/testing-limits.md). The quick
# cases run in make check; the long ones carry the label "soak" (make soak runs them,
# make check leaves them out with -LE soak).
if(COHORT_PYTHON3)
  foreach(t fds slowrecv nodispatch flood)
    add_test(NAME limits_${t}
             COMMAND ${COHORT_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_limits.py ${CMAKE_BINARY_DIR} ${t})
    set_tests_properties(limits_${t} PROPERTIES LABELS system TIMEOUT 90 SKIP_RETURN_CODE 77)
  endforeach()
  foreach(t scale1 scale3 rss valgrind)
    add_test(NAME limits_${t}
             COMMAND ${COHORT_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_limits.py ${CMAKE_BINARY_DIR} ${t})
    set_tests_properties(limits_${t} PROPERTIES LABELS soak TIMEOUT 1500 SKIP_RETURN_CODE 77)
  endforeach()
endif()
