/*
 * Exact types of the public API, checked by the compiler.
 *
 * Every function, handle, callback and struct member is compared with the type written here,
 * which is the type Corosync 3.1.7 declares. abi_check.sh compiles this file against Cohort's
 * headers and against Corosync's: if both compile, both agree with this list and therefore
 * with each other. A mismatch stops the compile with a message naming the declaration.
 *
 * Sizes and offsets are abi_layout's job; this file catches what a size cannot show: a
 * missing const, unsigned char where char was meant, a parameter of the wrong type or in
 * the wrong place. Function types are compared as pointers, the way a client stores them.
 */
#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <corosync/votequorum.h>

#define SAME_TYPE(a, b) __builtin_types_compatible_p(a, b)
#define CHECK_TYPE(t, want) _Static_assert(SAME_TYPE(t, want), #t " is not " #want)
#define CHECK_MEMBER(t, m, want) \
	_Static_assert(SAME_TYPE(__typeof__(((t *)0)->m), want), #t "." #m " is not " #want)
#define CHECK_FUNC(f, ...) \
	_Static_assert(SAME_TYPE(__typeof__(&f), __VA_ARGS__), #f " is not " #__VA_ARGS__)

/* Enums are compared with their compatible integer type; enum constants by abi_layout. */
CHECK_TYPE(cs_time_t, int64_t);
CHECK_TYPE(cs_dispatch_flags_t, unsigned int);
CHECK_TYPE(cs_error_t, unsigned int);
CHECK_MEMBER(cs_name_t, length, uint16_t);
CHECK_MEMBER(cs_name_t, value, uint8_t[CS_MAX_NAME_LENGTH]);
CHECK_MEMBER(cs_version_t, releaseCode, char);
CHECK_MEMBER(cs_version_t, majorVersion, unsigned char);
CHECK_MEMBER(cs_version_t, minorVersion, unsigned char);

CHECK_FUNC(cs_timestamp_get, uint64_t (*)(void));
CHECK_FUNC(cs_strerror, const char *(*)(cs_error_t));
CHECK_FUNC(qb_to_cs_error, cs_error_t (*)(int));
CHECK_FUNC(hdb_error_to_cs, cs_error_t (*)(int));

/* cpg */
CHECK_TYPE(cpg_handle_t, uint64_t);
CHECK_TYPE(cpg_iteration_handle_t, uint64_t);
CHECK_TYPE(cpg_guarantee_t, unsigned int);
CHECK_TYPE(cpg_flow_control_state_t, unsigned int);
CHECK_TYPE(cpg_reason_t, unsigned int);
CHECK_TYPE(cpg_iteration_type_t, unsigned int);
CHECK_TYPE(cpg_model_t, unsigned int);

CHECK_MEMBER(struct cpg_address, nodeid, uint32_t);
CHECK_MEMBER(struct cpg_address, pid, uint32_t);
CHECK_MEMBER(struct cpg_address, reason, uint32_t);
CHECK_MEMBER(struct cpg_name, length, uint32_t);
CHECK_MEMBER(struct cpg_name, value, char[CPG_MAX_NAME_LENGTH]);
CHECK_MEMBER(struct cpg_iteration_description_t, group, struct cpg_name);
CHECK_MEMBER(struct cpg_iteration_description_t, nodeid, uint32_t);
CHECK_MEMBER(struct cpg_iteration_description_t, pid, uint32_t);
CHECK_MEMBER(struct cpg_ring_id, nodeid, uint32_t);
CHECK_MEMBER(struct cpg_ring_id, seq, uint64_t);

CHECK_TYPE(cpg_deliver_fn_t,
	   void (*)(cpg_handle_t, const struct cpg_name *, uint32_t, uint32_t, void *, size_t));
CHECK_TYPE(cpg_confchg_fn_t,
	   void (*)(cpg_handle_t, const struct cpg_name *, const struct cpg_address *, size_t,
		    const struct cpg_address *, size_t, const struct cpg_address *, size_t));
CHECK_TYPE(cpg_totem_confchg_fn_t,
	   void (*)(cpg_handle_t, struct cpg_ring_id, uint32_t, const uint32_t *));

CHECK_MEMBER(cpg_callbacks_t, cpg_deliver_fn, cpg_deliver_fn_t);
CHECK_MEMBER(cpg_callbacks_t, cpg_confchg_fn, cpg_confchg_fn_t);
CHECK_MEMBER(cpg_model_data_t, model, cpg_model_t);
CHECK_MEMBER(cpg_model_v1_data_t, model, cpg_model_t);
CHECK_MEMBER(cpg_model_v1_data_t, cpg_deliver_fn, cpg_deliver_fn_t);
CHECK_MEMBER(cpg_model_v1_data_t, cpg_confchg_fn, cpg_confchg_fn_t);
CHECK_MEMBER(cpg_model_v1_data_t, cpg_totem_confchg_fn, cpg_totem_confchg_fn_t);
CHECK_MEMBER(cpg_model_v1_data_t, flags, unsigned int);

CHECK_FUNC(cpg_initialize, cs_error_t (*)(cpg_handle_t *, cpg_callbacks_t *));
CHECK_FUNC(cpg_model_initialize,
	   cs_error_t (*)(cpg_handle_t *, cpg_model_t, cpg_model_data_t *, void *));
CHECK_FUNC(cpg_finalize, cs_error_t (*)(cpg_handle_t));
CHECK_FUNC(cpg_fd_get, cs_error_t (*)(cpg_handle_t, int *));
CHECK_FUNC(cpg_max_atomic_msgsize_get, cs_error_t (*)(cpg_handle_t, uint32_t *));
CHECK_FUNC(cpg_context_get, cs_error_t (*)(cpg_handle_t, void **));
CHECK_FUNC(cpg_context_set, cs_error_t (*)(cpg_handle_t, void *));
CHECK_FUNC(cpg_dispatch, cs_error_t (*)(cpg_handle_t, cs_dispatch_flags_t));
CHECK_FUNC(cpg_join, cs_error_t (*)(cpg_handle_t, const struct cpg_name *));
CHECK_FUNC(cpg_leave, cs_error_t (*)(cpg_handle_t, const struct cpg_name *));
CHECK_FUNC(cpg_mcast_joined,
	   cs_error_t (*)(cpg_handle_t, cpg_guarantee_t, const struct iovec *, unsigned int));
CHECK_FUNC(cpg_membership_get,
	   cs_error_t (*)(cpg_handle_t, struct cpg_name *, struct cpg_address *, int *));
CHECK_FUNC(cpg_local_get, cs_error_t (*)(cpg_handle_t, unsigned int *));
CHECK_FUNC(cpg_flow_control_state_get, cs_error_t (*)(cpg_handle_t, cpg_flow_control_state_t *));
CHECK_FUNC(cpg_zcb_alloc, cs_error_t (*)(cpg_handle_t, size_t, void **));
CHECK_FUNC(cpg_zcb_free, cs_error_t (*)(cpg_handle_t, void *));
CHECK_FUNC(cpg_zcb_mcast_joined, cs_error_t (*)(cpg_handle_t, cpg_guarantee_t, void *, size_t));
CHECK_FUNC(cpg_iteration_initialize,
	   cs_error_t (*)(cpg_handle_t, cpg_iteration_type_t, const struct cpg_name *,
			  cpg_iteration_handle_t *));
CHECK_FUNC(cpg_iteration_next,
	   cs_error_t (*)(cpg_iteration_handle_t, struct cpg_iteration_description_t *));
CHECK_FUNC(cpg_iteration_finalize, cs_error_t (*)(cpg_iteration_handle_t));

/* quorum */
CHECK_TYPE(quorum_model_t, unsigned int);
CHECK_TYPE(quorum_handle_t, uint64_t);
CHECK_MEMBER(struct quorum_ring_id, nodeid, uint32_t);
CHECK_MEMBER(struct quorum_ring_id, seq, uint64_t);

CHECK_TYPE(quorum_notification_fn_t,
	   void (*)(quorum_handle_t, uint32_t, uint64_t, uint32_t, uint32_t *));
CHECK_TYPE(quorum_v1_quorum_notification_fn_t,
	   void (*)(quorum_handle_t, uint32_t, struct quorum_ring_id, uint32_t, const uint32_t *));
CHECK_TYPE(quorum_v1_nodelist_notification_fn_t,
	   void (*)(quorum_handle_t, struct quorum_ring_id, uint32_t, const uint32_t *, uint32_t,
		    const uint32_t *, uint32_t, const uint32_t *));

CHECK_MEMBER(quorum_callbacks_t, quorum_notify_fn, quorum_notification_fn_t);
CHECK_MEMBER(quorum_model_data_t, model, quorum_model_t);
CHECK_MEMBER(quorum_model_v0_data_t, model, quorum_model_t);
CHECK_MEMBER(quorum_model_v0_data_t, quorum_notify_fn, quorum_notification_fn_t);
CHECK_MEMBER(quorum_model_v1_data_t, model, quorum_model_t);
CHECK_MEMBER(quorum_model_v1_data_t, quorum_notify_fn, quorum_v1_quorum_notification_fn_t);
CHECK_MEMBER(quorum_model_v1_data_t, nodelist_notify_fn, quorum_v1_nodelist_notification_fn_t);

CHECK_FUNC(quorum_initialize, cs_error_t (*)(quorum_handle_t *, quorum_callbacks_t *, uint32_t *));
CHECK_FUNC(quorum_model_initialize, cs_error_t (*)(quorum_handle_t *, quorum_model_t,
						   quorum_model_data_t *, uint32_t *, void *));
CHECK_FUNC(quorum_finalize, cs_error_t (*)(quorum_handle_t));
CHECK_FUNC(quorum_fd_get, cs_error_t (*)(quorum_handle_t, int *));
CHECK_FUNC(quorum_dispatch, cs_error_t (*)(quorum_handle_t, cs_dispatch_flags_t));
CHECK_FUNC(quorum_getquorate, cs_error_t (*)(quorum_handle_t, int *));
CHECK_FUNC(quorum_trackstart, cs_error_t (*)(quorum_handle_t, unsigned int));
CHECK_FUNC(quorum_trackstop, cs_error_t (*)(quorum_handle_t));
CHECK_FUNC(quorum_context_set, cs_error_t (*)(quorum_handle_t, const void *));
CHECK_FUNC(quorum_context_get, cs_error_t (*)(quorum_handle_t, const void **));

/* votequorum */
CHECK_TYPE(votequorum_handle_t, uint64_t);
CHECK_MEMBER(struct votequorum_info, node_id, unsigned int);
CHECK_MEMBER(struct votequorum_info, node_state, unsigned int);
CHECK_MEMBER(struct votequorum_info, node_votes, unsigned int);
CHECK_MEMBER(struct votequorum_info, node_expected_votes, unsigned int);
CHECK_MEMBER(struct votequorum_info, highest_expected, unsigned int);
CHECK_MEMBER(struct votequorum_info, total_votes, unsigned int);
CHECK_MEMBER(struct votequorum_info, quorum, unsigned int);
CHECK_MEMBER(struct votequorum_info, flags, unsigned int);
CHECK_MEMBER(struct votequorum_info, qdevice_votes, unsigned int);
CHECK_MEMBER(struct votequorum_info, qdevice_name, char[VOTEQUORUM_QDEVICE_MAX_NAME_LEN]);
CHECK_MEMBER(votequorum_node_t, nodeid, uint32_t);
CHECK_MEMBER(votequorum_node_t, state, uint32_t);
CHECK_MEMBER(votequorum_ring_id_t, nodeid, uint32_t);
CHECK_MEMBER(votequorum_ring_id_t, seq, uint64_t);

CHECK_TYPE(votequorum_quorum_notification_fn_t,
	   void (*)(votequorum_handle_t, uint64_t, uint32_t, uint32_t, votequorum_node_t *));
CHECK_TYPE(votequorum_nodelist_notification_fn_t,
	   void (*)(votequorum_handle_t, uint64_t, votequorum_ring_id_t, uint32_t, uint32_t *));
CHECK_TYPE(votequorum_expectedvotes_notification_fn_t,
	   void (*)(votequorum_handle_t, uint64_t, uint32_t));

CHECK_MEMBER(votequorum_callbacks_t, votequorum_quorum_notify_fn,
	     votequorum_quorum_notification_fn_t);
CHECK_MEMBER(votequorum_callbacks_t, votequorum_expectedvotes_notify_fn,
	     votequorum_expectedvotes_notification_fn_t);
CHECK_MEMBER(votequorum_callbacks_t, votequorum_nodelist_notify_fn,
	     votequorum_nodelist_notification_fn_t);

CHECK_FUNC(votequorum_initialize, cs_error_t (*)(votequorum_handle_t *, votequorum_callbacks_t *));
CHECK_FUNC(votequorum_finalize, cs_error_t (*)(votequorum_handle_t));
CHECK_FUNC(votequorum_dispatch, cs_error_t (*)(votequorum_handle_t, cs_dispatch_flags_t));
CHECK_FUNC(votequorum_fd_get, cs_error_t (*)(votequorum_handle_t, int *));
CHECK_FUNC(votequorum_getinfo,
	   cs_error_t (*)(votequorum_handle_t, unsigned int, struct votequorum_info *));
CHECK_FUNC(votequorum_setexpected, cs_error_t (*)(votequorum_handle_t, unsigned int));
CHECK_FUNC(votequorum_setvotes, cs_error_t (*)(votequorum_handle_t, unsigned int, unsigned int));
CHECK_FUNC(votequorum_trackstart, cs_error_t (*)(votequorum_handle_t, uint64_t, unsigned int));
CHECK_FUNC(votequorum_trackstop, cs_error_t (*)(votequorum_handle_t));
CHECK_FUNC(votequorum_context_get, cs_error_t (*)(votequorum_handle_t, void **));
CHECK_FUNC(votequorum_context_set, cs_error_t (*)(votequorum_handle_t, void *));
CHECK_FUNC(votequorum_qdevice_register, cs_error_t (*)(votequorum_handle_t, const char *));
CHECK_FUNC(votequorum_qdevice_unregister, cs_error_t (*)(votequorum_handle_t, const char *));
CHECK_FUNC(votequorum_qdevice_update,
	   cs_error_t (*)(votequorum_handle_t, const char *, const char *));
CHECK_FUNC(votequorum_qdevice_poll,
	   cs_error_t (*)(votequorum_handle_t, const char *, unsigned int, votequorum_ring_id_t));
CHECK_FUNC(votequorum_qdevice_master_wins,
	   cs_error_t (*)(votequorum_handle_t, const char *, unsigned int));

/* An object file needs one external definition; the checks above are the point. */
int abi_types_checked(void);
int abi_types_checked(void)
{
	return 1;
}
