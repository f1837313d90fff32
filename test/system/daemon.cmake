# Real cohortd processes on 127.0.x.y (python3 drives them; see cohort_cluster.py).
find_program(COHORT_PYTHON3 python3)
if(COHORT_PYTHON3)
  foreach(t form kill9 pause restart graceful wrongkey garbage uidgid reload)
    add_test(NAME daemon_${t}
             COMMAND ${COHORT_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_daemon.py ${CMAKE_BINARY_DIR} ${t})
    set_tests_properties(daemon_${t} PROPERTIES LABELS system TIMEOUT 60 SKIP_RETURN_CODE 77)
  endforeach()
endif()
