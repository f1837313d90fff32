/* Private structures of the IPC client (ipc_client.c, ipc_client_ev.c). */
#ifndef COHORT_IPC_CLIENT_INT_H
#define COHORT_IPC_CLIENT_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "ipc/ipc_client.h"

/* Received event bytes. A chunk holds whole frames only (a partial frame at
 * the end of the tail moves to a new chunk big enough for it), and is freed
 * once every frame in it was handed out and given back. */
struct ipcc_chunk {
	struct ipcc_chunk *next;
	size_t cap;
	size_t len;  /* bytes received */
	size_t off;  /* bytes handed out */
	size_t scan; /* frames in [off, scan) are known complete */
	unsigned refs;
	uint8_t data[];
};

struct ipcc {
	int fd;	  /* requests/responses */
	int evfd; /* events */
	int efd;  /* eventfd: readable while complete frames are queued */
	int epfd; /* what the application polls */
	uint32_t next_req;
	size_t room_est; /* request socket room known free (req_lock) */
	atomic_bool dead;
	atomic_bool shut;
	pthread_mutex_t req_lock;
	pthread_mutex_t ev_lock;
	/* under ev_lock */
	struct ipcc_chunk *head, *tail;
	struct ipcc_chunk *spare; /* a drained chunk kept for reuse */
	size_t queued;		  /* bytes received and not handed out */
	bool ev_eof;
	bool ev_bad;
	bool efd_set;
};

/* Largest event backlog a waiting caller pulls into memory. */
#define IPCC_EVQ_MAX ((size_t)1 << 30)

/* ipc_client_ev.c, ev_lock held */
int ipcc_ev_read(struct ipcc *c);
void ipcc_ev_signal(struct ipcc *c);
void ipcc_ev_free_all(struct ipcc *c);

#endif
