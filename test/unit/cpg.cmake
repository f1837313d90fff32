# IPC and CPG tests: codecs, the IPC server, libcpg against the real CPG
# service on an in-process fake ring (test_cpg_ring.c), and several service
# instances fed one ordered stream with ring changes.
find_package(Threads REQUIRED)
set(_cpg_dir ${CMAKE_CURRENT_LIST_DIR})
set(_cpg_loop ${CMAKE_SOURCE_DIR}/src/daemon/loop.c)

# The fake ring with the real services, for tests that run libcpg clients.
add_library(test_cpg_harness STATIC ${_cpg_dir}/test_cpg_ring.c ${_cpg_dir}/test_cpg_util.c
            ${_cpg_loop})
target_link_libraries(test_cpg_harness PUBLIC cohort_services cpg cohort_ipcclient
                      Threads::Threads)

foreach(t cpg_lib cpg_lib2 cpg_multi)
  add_executable(test_${t} ${_cpg_dir}/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE test_cpg_harness)
  add_test(NAME ${t} COMMAND test_${t})
  set_tests_properties(${t} PROPERTIES LABELS unit TIMEOUT 120)
endforeach()

# Codecs alone.
add_executable(test_ipc_wire ${_cpg_dir}/test_ipc_wire.c)
target_link_libraries(test_ipc_wire PRIVATE cohort_ipcproto)
add_test(NAME ipc_wire COMMAND test_ipc_wire)
set_tests_properties(ipc_wire PROPERTIES LABELS unit)

# The IPC server with a toy service over raw sockets.
add_executable(test_ipc_server ${_cpg_dir}/test_ipc_server.c ${_cpg_loop})
target_link_libraries(test_ipc_server PRIVATE cohort_ipc cohort_ipcclient)
add_test(NAME ipc_server COMMAND test_ipc_server)
set_tests_properties(ipc_server PROPERTIES LABELS unit TIMEOUT 120)

# CPG ring message codec.
add_executable(test_cpg_msg ${_cpg_dir}/test_cpg_msg.c ${CMAKE_SOURCE_DIR}/src/services/cpg_msg.c)
target_link_libraries(test_cpg_msg PRIVATE cohort_ipcproto)
add_test(NAME cpg_msg COMMAND test_cpg_msg)
set_tests_properties(cpg_msg PROPERTIES LABELS unit)
