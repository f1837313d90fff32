/* Client side of the local IPC, used inside the client libraries (libcpg,
 * later libquorum/libvotequorum). One struct ipcc is one connection to one
 * service of cohortd: a request socket and an event socket (see
 * ipc_server.h).
 *
 * Events are read into a queue of chunks that are never moved while a frame
 * handed out by ipcc_event_next is still held, so callbacks can be given
 * pointers into it. The event socket is also drained while a thread waits
 * for a response, so a client busy sending (and receiving its own messages)
 * never hits the daemon's backlog limit. Since frames may then sit in the
 * queue rather than in the socket, the pollable fd handed to the application
 * is an epoll fd watching the event socket and an eventfd that is kept
 * readable while complete frames are queued.
 *
 * Thread safety: every function may be called from any thread; requests are
 * serialised per connection, event queue access is short and locked. */
#ifndef COHORT_IPC_CLIENT_H
#define COHORT_IPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ipc/ipc_wire.h"

struct ipcc;

struct ipcc_resp {
	int32_t result; /* the daemon's answer: 0 or a negative errno */
	uint8_t *body;	/* malloc'ed copy of the body (NULL when empty); caller frees */
	size_t len;
};

struct ipcc_event {
	struct ipc_hdr h;
	uint8_t *body; /* valid until ipcc_event_done */
	size_t len;
	void *chunk;
};

/* Connects to "\0cohort-<ipc_name>-<service>", sends hello and waits for the
 * reply. Returns 0, -ECONNREFUSED/-ENOENT when no daemon listens, the
 * daemon's refusal (-EACCES, ...), or another negative errno. */
int ipcc_connect(const char *ipc_name, const char *service, const struct ipc_hello *hello,
		 struct ipc_hello_reply *reply, struct ipcc **out);
/* Wake every thread blocked on the connection and make further calls fail
 * with -ESHUTDOWN. The memory stays valid until ipcc_free. */
void ipcc_shutdown(struct ipcc *c);
void ipcc_free(struct ipcc *c);
int ipcc_poll_fd(const struct ipcc *c);
/* True once the daemon has gone (a read or write failed, or EOF). */
bool ipcc_dead(const struct ipcc *c);

/* One request: head holds an encoded header (IPC_HDR_LEN bytes at least;
 * the req_id is filled in here) and the start of the body; payload follows.
 * Returns 0 with *resp filled, or a negative errno when the connection
 * failed (it is then dead). */
int ipcc_call(struct ipcc *c, uint8_t *head, size_t head_len, const struct iovec *payload,
	      unsigned n, struct ipcc_resp *resp);

/* A request that gets no answer: sent only if the socket takes it now
 * (-EAGAIN otherwise, nothing sent); a frame the socket took in part is
 * finished before returning. */
int ipcc_send(struct ipcc *c, uint8_t *head, size_t head_len, const struct iovec *payload,
	      unsigned n);

/* True while the daemon is behind on our requests: more than half of the
 * request socket's buffer is waiting to be read. */
bool ipcc_congested(const struct ipcc *c);

/* Next complete event: 1 and *ev filled, 0 when none is available now,
 * -ECONNRESET when the daemon has gone and every queued event was handed
 * out, -ESHUTDOWN after ipcc_shutdown, -EPROTO on a corrupt stream. */
int ipcc_event_next(struct ipcc *c, struct ipcc_event *ev);
void ipcc_event_done(struct ipcc *c, struct ipcc_event *ev);
/* Block until an event may be available (or timeout_ms passes; -1 waits
 * forever). Returns 0, or a negative errno. */
int ipcc_event_wait(struct ipcc *c, int timeout_ms);

#endif
