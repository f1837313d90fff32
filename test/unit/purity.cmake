# The Totem core must stay sans-I/O and free of global state; this guards it
# on every test run rather than relying on review.
add_test(NAME core_purity
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check_core_purity.sh
                 ${CMAKE_SOURCE_DIR}/src/totem)
add_test(NAME core_purity_selftest
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check_core_purity.sh --self-test)
set_tests_properties(core_purity core_purity_selftest PROPERTIES LABELS unit)
