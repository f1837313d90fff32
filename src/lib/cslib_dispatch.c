/* The dispatch loop every client library runs: take the connection's
 * events, hand each to the library's handler, and stop as cs_dispatch_flags_t
 * says (ONE and ONE_NONBLOCKING stop after the first callback, BLOCKING and
 * ONE wait for events, ALL and ONE_NONBLOCKING return when none is left). */
#include "lib/cslib.h"

#include "ipc/ipc_client.h"

cs_error_t cslib_dispatch(struct ipcc *conn, atomic_bool *finalized, cs_dispatch_flags_t type,
			  cslib_event_fn on_event, void *arg)
{
	bool block = type == CS_DISPATCH_ONE || type == CS_DISPATCH_BLOCKING;
	bool one = type == CS_DISPATCH_ONE || type == CS_DISPATCH_ONE_NONBLOCKING;

	for (;;) {
		struct ipcc_event ev;
		bool called;
		int r;

		if (atomic_load(finalized))
			return CS_OK;
		r = ipcc_event_next(conn, &ev);
		if (r == 0) {
			if (!block)
				return type == CS_DISPATCH_ONE_NONBLOCKING ? CS_ERR_TRY_AGAIN :
									     CS_OK;
			r = ipcc_event_wait(conn, -1);
			if (r == 0)
				continue;
		}
		if (r < 0)
			return atomic_load(finalized) ? CS_OK : cslib_error(r);
		called = on_event(arg, &ev);
		ipcc_event_done(conn, &ev);
		if (called && one)
			return CS_OK;
	}
}
