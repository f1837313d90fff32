# votequorum core (pure state machine and ring codec) unit tests.
# The library is defined by src/services/CMakeLists.txt once the services
# directory has one; until then it is built here from the same sources.
if(NOT TARGET cohort_vq)
  add_library(cohort_vq STATIC
    ${CMAKE_SOURCE_DIR}/src/services/vq_core.c
    ${CMAKE_SOURCE_DIR}/src/services/vq_calc.c
    ${CMAKE_SOURCE_DIR}/src/services/vq_msg.c)
endif()
add_executable(test_vq
  ${CMAKE_CURRENT_LIST_DIR}/test_vq.c
  ${CMAKE_CURRENT_LIST_DIR}/test_vq_opts.c
  ${CMAKE_CURRENT_LIST_DIR}/test_vq_msg.c
  ${CMAKE_CURRENT_LIST_DIR}/test_vq_fixture.c)
target_link_libraries(test_vq PRIVATE cohort_vq)
add_test(NAME vq COMMAND test_vq)
set_tests_properties(vq PROPERTIES LABELS unit TIMEOUT 60)

# Quorum IPC bodies shared by cohortd and libquorum/libvotequorum.
if(TARGET cohort_quorumproto)
  add_executable(test_vq_ipc ${CMAKE_CURRENT_LIST_DIR}/test_vq_ipc.c)
  target_link_libraries(test_vq_ipc PRIVATE cohort_quorumproto)
  add_test(NAME vq_ipc COMMAND test_vq_ipc)
  set_tests_properties(vq_ipc PROPERTIES LABELS unit TIMEOUT 60)
endif()
