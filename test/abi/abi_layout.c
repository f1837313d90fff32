/*
 * Prints the binary shape of the public API: size and alignment of every public type, offset
 * and size of every struct member, and the value and type of every enum constant and macro.
 *
 * abi_check.sh compiles this file twice, once against Cohort's include/ and once against
 * Corosync's installed headers, and diffs the two outputs: any line that differs is an ABI
 * break. The program itself knows nothing about the expected values, so both header sets
 * are measured by the same compiler with the same flags.
 *
 * When Corosync adds a type, member or constant, it must be listed here too; the abi_names
 * test catches names that appear in Corosync's headers and not in ours.
 */
/* Corosync's CS_PRI_* macros need inttypes.h, which its corotypes.h does not include. */
#include <inttypes.h>

#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <corosync/votequorum.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The integer type an expression has. Enum types show their compatible integer type,
 * which is what decides how they are passed and stored. Aggregates, pointers and arrays
 * (which decay) are "other": their size is printed, and abi_types.c checks them exactly.
 * Formatted by hand: clang-format 14 cannot lay out _Generic associations.
 */
/* clang-format off */
#define TYPE_NAME(x)						\
	_Generic((x),						\
		 _Bool: "_Bool",				\
		 char: "char",					\
		 signed char: "signed char",			\
		 unsigned char: "unsigned char",		\
		 short: "short",				\
		 unsigned short: "unsigned short",		\
		 int: "int",					\
		 unsigned int: "unsigned int",			\
		 long: "long",					\
		 unsigned long: "unsigned long",		\
		 long long: "long long",			\
		 unsigned long long: "unsigned long long",	\
		 default: "other")
/* clang-format on */

#define TYPE(t) type_line(#t, sizeof(t), _Alignof(t), TYPE_NAME(*(t *)0))
#define MEMBER(t, m) \
	member_line(#t, #m, offsetof(t, m), sizeof(((t *)0)->m), TYPE_NAME(((t *)0)->m))
/* Arrays decay inside _Generic, so name the element type and count instead. */
#define ARRAY_MEMBER(t, m)                                                              \
	array_line(#t, #m, offsetof(t, m), sizeof(((t *)0)->m), sizeof(((t *)0)->m[0]), \
		   TYPE_NAME(((t *)0)->m[0]))
#define CONSTANT(c) const_line(#c, (long long)(c), sizeof(c), TYPE_NAME(c))
#define STRING(c) printf("string %s = \"%s\"\n", #c, c)

static void type_line(const char *name, size_t size, size_t align, const char *kind)
{
	printf("type %s: size %zu align %zu (%s)\n", name, size, align, kind);
}

static void member_line(const char *type, const char *member, size_t off, size_t size,
			const char *kind)
{
	printf("member %s.%s: offset %zu size %zu (%s)\n", type, member, off, size, kind);
}

static void array_line(const char *type, const char *member, size_t off, size_t size,
		       size_t elem_size, const char *elem_kind)
{
	printf("member %s.%s: offset %zu size %zu (array of %zu %s)\n", type, member, off, size,
	       size / elem_size, elem_kind);
}

static void const_line(const char *name, long long value, size_t size, const char *kind)
{
	printf("const %s = %lld (size %zu, %s)\n", name, value, size, kind);
}

static void corotypes_layout(void)
{
	TYPE(cs_time_t);
	TYPE(cs_name_t);
	MEMBER(cs_name_t, length);
	ARRAY_MEMBER(cs_name_t, value);
	TYPE(cs_version_t);
	MEMBER(cs_version_t, releaseCode);
	MEMBER(cs_version_t, majorVersion);
	MEMBER(cs_version_t, minorVersion);
	TYPE(cs_dispatch_flags_t);
	TYPE(cs_error_t);
}

static void corotypes_values(void)
{
	CONSTANT(CS_FALSE);
	CONSTANT(CS_TRUE);
	CONSTANT(CS_MAX_NAME_LENGTH);
	CONSTANT(CS_TIME_END);
	CONSTANT(CS_MAX(3, 7));
	CONSTANT(CS_MAX(-7, -3));
	CONSTANT(CS_MAX(2u, 1u));
	STRING(CS_PRI_NODE_ID);
	STRING(CS_PRI_NODE_ID_PADDED);
	STRING(CS_PRI_RING_ID_SEQ);
	STRING(CS_PRI_RING_ID);
	CONSTANT(CS_IPC_TIMEOUT_MS);
	CONSTANT(CS_TIME_MS_IN_SEC);
	CONSTANT(CS_TIME_US_IN_SEC);
	CONSTANT(CS_TIME_NS_IN_SEC);
	CONSTANT(CS_TIME_US_IN_MSEC);
	CONSTANT(CS_TIME_NS_IN_MSEC);
	CONSTANT(CS_TIME_NS_IN_USEC);
	CONSTANT(CS_TRACK_CURRENT);
	CONSTANT(CS_TRACK_CHANGES);
	CONSTANT(CS_TRACK_CHANGES_ONLY);

	CONSTANT(CS_DISPATCH_ONE);
	CONSTANT(CS_DISPATCH_ALL);
	CONSTANT(CS_DISPATCH_BLOCKING);
	CONSTANT(CS_DISPATCH_ONE_NONBLOCKING);

	CONSTANT(CS_OK);
	CONSTANT(CS_ERR_LIBRARY);
	CONSTANT(CS_ERR_VERSION);
	CONSTANT(CS_ERR_INIT);
	CONSTANT(CS_ERR_TIMEOUT);
	CONSTANT(CS_ERR_TRY_AGAIN);
	CONSTANT(CS_ERR_INVALID_PARAM);
	CONSTANT(CS_ERR_NO_MEMORY);
	CONSTANT(CS_ERR_BAD_HANDLE);
	CONSTANT(CS_ERR_BUSY);
	CONSTANT(CS_ERR_ACCESS);
	CONSTANT(CS_ERR_NOT_EXIST);
	CONSTANT(CS_ERR_NAME_TOO_LONG);
	CONSTANT(CS_ERR_EXIST);
	CONSTANT(CS_ERR_NO_SPACE);
	CONSTANT(CS_ERR_INTERRUPT);
	CONSTANT(CS_ERR_NAME_NOT_FOUND);
	CONSTANT(CS_ERR_NO_RESOURCES);
	CONSTANT(CS_ERR_NOT_SUPPORTED);
	CONSTANT(CS_ERR_BAD_OPERATION);
	CONSTANT(CS_ERR_FAILED_OPERATION);
	CONSTANT(CS_ERR_MESSAGE_ERROR);
	CONSTANT(CS_ERR_QUEUE_FULL);
	CONSTANT(CS_ERR_QUEUE_NOT_AVAILABLE);
	CONSTANT(CS_ERR_BAD_FLAGS);
	CONSTANT(CS_ERR_TOO_BIG);
	CONSTANT(CS_ERR_NO_SECTIONS);
	CONSTANT(CS_ERR_CONTEXT_NOT_FOUND);
	CONSTANT(CS_ERR_TOO_MANY_GROUPS);
	CONSTANT(CS_ERR_SECURITY);
}

static void cpg_layout(void)
{
	TYPE(cpg_handle_t);
	TYPE(cpg_iteration_handle_t);
	TYPE(cpg_guarantee_t);
	TYPE(cpg_flow_control_state_t);
	TYPE(cpg_reason_t);
	TYPE(cpg_iteration_type_t);
	TYPE(cpg_model_t);

	TYPE(struct cpg_address);
	MEMBER(struct cpg_address, nodeid);
	MEMBER(struct cpg_address, pid);
	MEMBER(struct cpg_address, reason);
	TYPE(struct cpg_name);
	MEMBER(struct cpg_name, length);
	ARRAY_MEMBER(struct cpg_name, value);
	TYPE(struct cpg_iteration_description_t);
	MEMBER(struct cpg_iteration_description_t, group);
	MEMBER(struct cpg_iteration_description_t, nodeid);
	MEMBER(struct cpg_iteration_description_t, pid);
	TYPE(struct cpg_ring_id);
	MEMBER(struct cpg_ring_id, nodeid);
	MEMBER(struct cpg_ring_id, seq);

	TYPE(cpg_deliver_fn_t);
	TYPE(cpg_confchg_fn_t);
	TYPE(cpg_totem_confchg_fn_t);
	TYPE(cpg_callbacks_t);
	MEMBER(cpg_callbacks_t, cpg_deliver_fn);
	MEMBER(cpg_callbacks_t, cpg_confchg_fn);
	TYPE(cpg_model_data_t);
	MEMBER(cpg_model_data_t, model);
	TYPE(cpg_model_v1_data_t);
	MEMBER(cpg_model_v1_data_t, model);
	MEMBER(cpg_model_v1_data_t, cpg_deliver_fn);
	MEMBER(cpg_model_v1_data_t, cpg_confchg_fn);
	MEMBER(cpg_model_v1_data_t, cpg_totem_confchg_fn);
	MEMBER(cpg_model_v1_data_t, flags);
}

static void cpg_values(void)
{
	CONSTANT(CPG_TYPE_UNORDERED);
	CONSTANT(CPG_TYPE_FIFO);
	CONSTANT(CPG_TYPE_AGREED);
	CONSTANT(CPG_TYPE_SAFE);
	CONSTANT(CPG_FLOW_CONTROL_DISABLED);
	CONSTANT(CPG_FLOW_CONTROL_ENABLED);
	CONSTANT(CPG_REASON_UNDEFINED);
	CONSTANT(CPG_REASON_JOIN);
	CONSTANT(CPG_REASON_LEAVE);
	CONSTANT(CPG_REASON_NODEDOWN);
	CONSTANT(CPG_REASON_NODEUP);
	CONSTANT(CPG_REASON_PROCDOWN);
	CONSTANT(CPG_ITERATION_NAME_ONLY);
	CONSTANT(CPG_ITERATION_ONE_GROUP);
	CONSTANT(CPG_ITERATION_ALL);
	CONSTANT(CPG_MODEL_V1);
	CONSTANT(CPG_MAX_NAME_LENGTH);
	CONSTANT(CPG_MEMBERS_MAX);
	CONSTANT(CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF);
}

static void quorum_layout(void)
{
	TYPE(quorum_model_t);
	TYPE(quorum_handle_t);
	TYPE(struct quorum_ring_id);
	MEMBER(struct quorum_ring_id, nodeid);
	MEMBER(struct quorum_ring_id, seq);
	TYPE(quorum_notification_fn_t);
	TYPE(quorum_v1_quorum_notification_fn_t);
	TYPE(quorum_v1_nodelist_notification_fn_t);
	TYPE(quorum_callbacks_t);
	MEMBER(quorum_callbacks_t, quorum_notify_fn);
	TYPE(quorum_model_data_t);
	MEMBER(quorum_model_data_t, model);
	TYPE(quorum_model_v0_data_t);
	MEMBER(quorum_model_v0_data_t, model);
	MEMBER(quorum_model_v0_data_t, quorum_notify_fn);
	TYPE(quorum_model_v1_data_t);
	MEMBER(quorum_model_v1_data_t, model);
	MEMBER(quorum_model_v1_data_t, quorum_notify_fn);
	MEMBER(quorum_model_v1_data_t, nodelist_notify_fn);

	CONSTANT(QUORUM_MODEL_V0);
	CONSTANT(QUORUM_MODEL_V1);
	CONSTANT(QUORUM_FREE);
	CONSTANT(QUORUM_SET);
}

static void votequorum_layout(void)
{
	TYPE(votequorum_handle_t);
	TYPE(struct votequorum_info);
	MEMBER(struct votequorum_info, node_id);
	MEMBER(struct votequorum_info, node_state);
	MEMBER(struct votequorum_info, node_votes);
	MEMBER(struct votequorum_info, node_expected_votes);
	MEMBER(struct votequorum_info, highest_expected);
	MEMBER(struct votequorum_info, total_votes);
	MEMBER(struct votequorum_info, quorum);
	MEMBER(struct votequorum_info, flags);
	MEMBER(struct votequorum_info, qdevice_votes);
	ARRAY_MEMBER(struct votequorum_info, qdevice_name);
	TYPE(votequorum_node_t);
	MEMBER(votequorum_node_t, nodeid);
	MEMBER(votequorum_node_t, state);
	TYPE(votequorum_ring_id_t);
	MEMBER(votequorum_ring_id_t, nodeid);
	MEMBER(votequorum_ring_id_t, seq);
	TYPE(votequorum_quorum_notification_fn_t);
	TYPE(votequorum_nodelist_notification_fn_t);
	TYPE(votequorum_expectedvotes_notification_fn_t);
	TYPE(votequorum_callbacks_t);
	MEMBER(votequorum_callbacks_t, votequorum_quorum_notify_fn);
	MEMBER(votequorum_callbacks_t, votequorum_expectedvotes_notify_fn);
	MEMBER(votequorum_callbacks_t, votequorum_nodelist_notify_fn);
}

static void votequorum_values(void)
{
	CONSTANT(VOTEQUORUM_INFO_TWONODE);
	CONSTANT(VOTEQUORUM_INFO_QUORATE);
	CONSTANT(VOTEQUORUM_INFO_WAIT_FOR_ALL);
	CONSTANT(VOTEQUORUM_INFO_LAST_MAN_STANDING);
	CONSTANT(VOTEQUORUM_INFO_AUTO_TIE_BREAKER);
	CONSTANT(VOTEQUORUM_INFO_ALLOW_DOWNSCALE);
	CONSTANT(VOTEQUORUM_INFO_QDEVICE_REGISTERED);
	CONSTANT(VOTEQUORUM_INFO_QDEVICE_ALIVE);
	CONSTANT(VOTEQUORUM_INFO_QDEVICE_CAST_VOTE);
	CONSTANT(VOTEQUORUM_INFO_QDEVICE_MASTER_WINS);
	CONSTANT(VOTEQUORUM_QDEVICE_NODEID);
	CONSTANT(VOTEQUORUM_QDEVICE_MAX_NAME_LEN);
	CONSTANT(VOTEQUORUM_QDEVICE_DEFAULT_TIMEOUT);
	CONSTANT(VOTEQUORUM_QDEVICE_DEFAULT_SYNC_TIMEOUT);
	CONSTANT(VOTEQUORUM_NODESTATE_MEMBER);
	CONSTANT(VOTEQUORUM_NODESTATE_DEAD);
	CONSTANT(VOTEQUORUM_NODESTATE_LEAVING);
}

int main(void)
{
	corotypes_layout();
	corotypes_values();
	cpg_layout();
	cpg_values();
	quorum_layout();
	votequorum_layout();
	votequorum_values();
	return 0;
}
