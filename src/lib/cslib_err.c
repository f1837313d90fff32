/* The library boundary: internal errors (0 or a negative errno, from the
 * daemon or from our own IPC code) become cs_error_t here and only here. */
#include <errno.h>

#include "lib/cslib.h"

cs_error_t cslib_error(int err)
{
	switch (err) {
	case 0:
		return CS_OK;
	case -EAGAIN:
		return CS_ERR_TRY_AGAIN;
	case -EINVAL:
		return CS_ERR_INVALID_PARAM;
	case -ENOMEM:
	case -ENOBUFS:
		return CS_ERR_NO_MEMORY;
	case -EBADF:
	case -ESHUTDOWN: /* finalized while the call ran */
		return CS_ERR_BAD_HANDLE;
	case -EBUSY:
		return CS_ERR_BUSY;
	case -EACCES:
	case -EPERM:
		return CS_ERR_ACCESS;
	case -ENOENT:
		return CS_ERR_NOT_EXIST;
	case -ENAMETOOLONG:
		return CS_ERR_NAME_TOO_LONG;
	case -EEXIST:
		return CS_ERR_EXIST;
	case -ENOSPC:
		return CS_ERR_NO_SPACE;
	case -EINTR:
		return CS_ERR_INTERRUPT;
	case -EOPNOTSUPP:
		return CS_ERR_NOT_SUPPORTED;
	case -EMSGSIZE:
		return CS_ERR_TOO_BIG;
	case -ENODATA:
		return CS_ERR_NO_SECTIONS;
	case -ETIMEDOUT:
		return CS_ERR_TIMEOUT;
	case -EPROTONOSUPPORT:
		return CS_ERR_VERSION;
	case -EMFILE: /* the daemon's or our own descriptors, or its client limit */
	case -ENFILE:
		return CS_ERR_NO_RESOURCES;
	default:
		/* -ECONNREFUSED, -ECONNRESET, -EPIPE, -EPROTO...: no daemon. */
		return CS_ERR_LIBRARY;
	}
}
