# Packet crypto and UDP transport unit tests (real sockets on 127.x addresses).
add_executable(test_crypto ${CMAKE_CURRENT_LIST_DIR}/test_crypto.c)
target_link_libraries(test_crypto PRIVATE cohort_crypto)
add_test(NAME crypto COMMAND test_crypto)
set_tests_properties(crypto PROPERTIES LABELS unit TIMEOUT 60)
# Throughput of seal + open; run by hand: crypto_speed [seconds]
add_executable(crypto_speed ${CMAKE_CURRENT_LIST_DIR}/test_crypto_speed.c)
target_link_libraries(crypto_speed PRIVATE cohort_crypto)
add_executable(test_net ${CMAKE_CURRENT_LIST_DIR}/test_net.c)
target_link_libraries(test_net PRIVATE cohort_net)
add_test(NAME net COMMAND test_net)
set_tests_properties(net PROPERTIES LABELS unit TIMEOUT 120)
# cohort-keygen, run as a program in a temporary directory.
if(TARGET cohort-keygen)
  add_executable(test_keygen ${CMAKE_CURRENT_LIST_DIR}/test_keygen.c)
  target_link_libraries(test_keygen PRIVATE cohort_crypto)
  add_test(NAME keygen COMMAND test_keygen $<TARGET_FILE:cohort-keygen>)
  set_tests_properties(keygen PROPERTIES LABELS unit TIMEOUT 60)
endif()
