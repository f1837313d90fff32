/*
 * Cohort: closed process group (CPG) client API, served by libcpg.so.4.
 *
 * Names, values, layouts and prototypes are those of Corosync 3.1.7 so that programs built
 * against Corosync run on Cohort unmodified (checked by test/abi/). Where Cohort behaves
 * differently on purpose, the note sits next to the declaration and in
 * docs/compatibility.md.
 */
#ifndef COHORT_COROSYNC_CPG_H
#define COHORT_COROSYNC_CPG_H

/* struct iovec and size_t come with these; Corosync clients get netinet/in.h from here. */
#include <corosync/corotypes.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque; not a file descriptor (use cpg_fd_get() for that). */
typedef uint64_t cpg_handle_t;
typedef uint64_t cpg_iteration_handle_t;

/*
 * Delivery guarantee of a multicast. Corosync quietly delivers all four as AGREED;
 * Cohort honours SAFE (delivered once every ring member holds the message).
 */
typedef enum {
	CPG_TYPE_UNORDERED = 0,
	CPG_TYPE_FIFO = 1,
	CPG_TYPE_AGREED = 2,
	CPG_TYPE_SAFE = 3
} cpg_guarantee_t;

typedef enum {
	CPG_FLOW_CONTROL_DISABLED = 0, /* sending is fine */
	CPG_FLOW_CONTROL_ENABLED = 1   /* queues are filling: hold off */
} cpg_flow_control_state_t;

/* Why a process shows up in a joined or left list of a configuration change. */
typedef enum {
	CPG_REASON_UNDEFINED = 0, /* entries of member_list */
	CPG_REASON_JOIN = 1,
	CPG_REASON_LEAVE = 2,
	CPG_REASON_NODEDOWN = 3,
	CPG_REASON_NODEUP = 4,
	CPG_REASON_PROCDOWN = 5
} cpg_reason_t;

typedef enum {
	CPG_ITERATION_NAME_ONLY = 1,
	CPG_ITERATION_ONE_GROUP = 2,
	CPG_ITERATION_ALL = 3
} cpg_iteration_type_t;

typedef enum { CPG_MODEL_V1 = 1 } cpg_model_t;

#define CPG_MAX_NAME_LENGTH 128
#define CPG_MEMBERS_MAX 128

/* reason holds a cpg_reason_t; it is a uint32_t so the layout does not hang on enum size. */
struct cpg_address {
	uint32_t nodeid;
	uint32_t pid;
	uint32_t reason;
};

/* Counted, not NUL terminated: length bytes of value are the name. */
struct cpg_name {
	uint32_t length;
	char value[CPG_MAX_NAME_LENGTH];
};

/* The "_t" belongs to the struct tag here; Corosync spelled it so. */
struct cpg_iteration_description_t {
	struct cpg_name group;
	uint32_t nodeid;
	uint32_t pid;
};

struct cpg_ring_id {
	uint32_t nodeid;
	uint64_t seq;
};

/*
 * msg is writable on purpose: receivers may byte-swap a message in place. It is only
 * valid until the callback returns.
 */
typedef void (*cpg_deliver_fn_t)(cpg_handle_t handle, const struct cpg_name *group_name,
				 uint32_t nodeid, uint32_t pid, void *msg, size_t msg_len);

typedef void (*cpg_confchg_fn_t)(cpg_handle_t handle, const struct cpg_name *group_name,
				 const struct cpg_address *member_list, size_t member_list_entries,
				 const struct cpg_address *left_list, size_t left_list_entries,
				 const struct cpg_address *joined_list, size_t joined_list_entries);

/* Ring (node-level) membership, for model V1 clients that asked for it. */
typedef void (*cpg_totem_confchg_fn_t)(cpg_handle_t handle, struct cpg_ring_id ring_id,
				       uint32_t member_list_entries, const uint32_t *member_list);

typedef struct {
	cpg_deliver_fn_t cpg_deliver_fn;
	cpg_confchg_fn_t cpg_confchg_fn;
} cpg_callbacks_t;

/* Common head of every model's data; cpg_model_initialize() reads model first. */
typedef struct {
	cpg_model_t model;
} cpg_model_data_t;

/* flags bit: also report the ring membership current at initialisation time. */
#define CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF 0x01

typedef struct {
	cpg_model_t model;
	cpg_deliver_fn_t cpg_deliver_fn;
	cpg_confchg_fn_t cpg_confchg_fn;
	cpg_totem_confchg_fn_t cpg_totem_confchg_fn;
	unsigned int flags;
} cpg_model_v1_data_t;

/* Connections. cpg_initialize() is the older form of cpg_model_initialize(). */
cs_error_t cpg_initialize(cpg_handle_t *handle, cpg_callbacks_t *callbacks);
cs_error_t cpg_model_initialize(cpg_handle_t *handle, cpg_model_t model,
				cpg_model_data_t *model_data, void *context);
cs_error_t cpg_finalize(cpg_handle_t handle);
cs_error_t cpg_fd_get(cpg_handle_t handle, int *fd);
cs_error_t cpg_max_atomic_msgsize_get(cpg_handle_t handle, uint32_t *size);
cs_error_t cpg_context_get(cpg_handle_t handle, void **context);
cs_error_t cpg_context_set(cpg_handle_t handle, void *context);
cs_error_t cpg_dispatch(cpg_handle_t handle, cs_dispatch_flags_t dispatch_types);

/*
 * Group membership and messages. One group per handle: a second join fails with
 * CS_ERR_EXIST, and leave followed by join works. Multicasting before joining gives
 * CS_ERR_NOT_EXIST in Cohort (Corosync reports CS_OK and drops the message).
 */
cs_error_t cpg_join(cpg_handle_t handle, const struct cpg_name *group);
cs_error_t cpg_leave(cpg_handle_t handle, const struct cpg_name *group);
cs_error_t cpg_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee,
			    const struct iovec *iovec, unsigned int iov_len);
cs_error_t cpg_membership_get(cpg_handle_t handle, struct cpg_name *groupName,
			      struct cpg_address *member_list, int *member_list_entries);
cs_error_t cpg_local_get(cpg_handle_t handle, unsigned int *local_nodeid);
cs_error_t cpg_flow_control_state_get(cpg_handle_t handle,
				      cpg_flow_control_state_t *flow_control_enabled);

/* Zero-copy sends: the buffer comes from the library and goes back to it. */
cs_error_t cpg_zcb_alloc(cpg_handle_t handle, size_t size, void **buffer);
cs_error_t cpg_zcb_free(cpg_handle_t handle, void *buffer);
cs_error_t cpg_zcb_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee, void *msg,
				size_t msg_len);

/* Walking the groups known cluster-wide, whether or not this handle joined them. */
cs_error_t cpg_iteration_initialize(cpg_handle_t handle, cpg_iteration_type_t iteration_type,
				    const struct cpg_name *group,
				    cpg_iteration_handle_t *cpg_iteration_handle);
cs_error_t cpg_iteration_next(cpg_iteration_handle_t handle,
			      struct cpg_iteration_description_t *description);
cs_error_t cpg_iteration_finalize(cpg_iteration_handle_t handle);

#ifdef __cplusplus
}
#endif

#endif /* COHORT_COROSYNC_CPG_H */
