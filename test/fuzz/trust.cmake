# Totem core, configuration and packet protection fuzzing (issue 8), on the
# shared driver fuzz_driver.c. The sources under test are listed so that the
# libFuzzer builds instrument them; what they only call is linked as is.
cohort_fuzz_target(fuzz_totem
  SOURCES ${CMAKE_SOURCE_DIR}/src/totem/totem.c ${CMAKE_SOURCE_DIR}/src/totem/totem_memb.c
          ${CMAKE_SOURCE_DIR}/src/totem/totem_order.c ${CMAKE_SOURCE_DIR}/src/totem/totem_peer.c
          ${CMAKE_SOURCE_DIR}/src/totem/totem_store.c
          ${CMAKE_SOURCE_DIR}/src/wire/wire.c ${CMAKE_SOURCE_DIR}/src/wire/wire_encode.c)
cohort_fuzz_target(fuzz_config
  SOURCES ${CMAKE_SOURCE_DIR}/src/daemon/config.c ${CMAKE_SOURCE_DIR}/src/daemon/config_nodes.c
          ${CMAKE_SOURCE_DIR}/src/util/conftree.c ${CMAKE_SOURCE_DIR}/src/util/confbind.c
          ${CMAKE_SOURCE_DIR}/src/util/strnum.c ${CMAKE_SOURCE_DIR}/src/util/addr.c
          ${CMAKE_SOURCE_DIR}/src/util/diag.c
  LIBS cohort_totem)
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto) # imported targets are per directory
cohort_fuzz_target(fuzz_crypto
  SOURCES ${CMAKE_SOURCE_DIR}/src/net/crypto.c
  LIBS OpenSSL::Crypto)
# The quorum/votequorum IPC and votequorum ring messages (fuzz_ipc covers CPG).
cohort_fuzz_target(fuzz_quorum
  SOURCES ${CMAKE_SOURCE_DIR}/src/services/quorum_ipc.c ${CMAKE_SOURCE_DIR}/src/services/vq_msg.c
          ${CMAKE_SOURCE_DIR}/src/ipc/ipc_wire.c ${CMAKE_SOURCE_DIR}/src/ipc/ipc_cpg.c
  LIBS cohort_vq)
