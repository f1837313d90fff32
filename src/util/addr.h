/* IP addresses as plain values: comparable, hashable and printable without
 * dragging sockaddr casts through the code. */
#ifndef COHORT_UTIL_ADDR_H
#define COHORT_UTIL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UTIL_ADDR_STRLEN 64 /* enough for "[v6%scope]:port" */

struct util_addr {
	uint16_t family;   /* AF_INET or AF_INET6; 0 = unset */
	uint16_t port;	   /* host order; 0 = unset */
	uint32_t scope_id; /* IPv6 link-local interface index */
	uint8_t bytes[16]; /* network order; IPv4 uses the first 4 */
};

enum util_addr_err {
	UTIL_ADDR_OK = 0,
	UTIL_ADDR_INVALID,    /* not a numeric address and not a host name */
	UTIL_ADDR_UNRESOLVED, /* looks like a host name but getaddrinfo failed */
	UTIL_ADDR_FAMILY,     /* resolved, but not in the family asked for */
};

/* Which families a host name may resolve to, in order of preference. */
enum util_addr_pref {
	UTIL_ADDR_PREF_V6_4 = 0, /* Corosync's default for knet/udpu */
	UTIL_ADDR_PREF_V4_6,
	UTIL_ADDR_PREF_V4,
	UTIL_ADDR_PREF_V6,
};

/* Numeric IPv4, numeric IPv6 (optionally "%ifname" or "%index"), or, when
 * allow_names is set, a host name resolved with getaddrinfo. Strings made only
 * of digits and dots, or containing ':', are never sent to the resolver so a
 * typo such as 10.0.0.256 fails at once instead of waiting for DNS. */
enum util_addr_err util_addr_parse(const char *s, enum util_addr_pref pref, bool allow_names,
				   struct util_addr *out);
const char *util_addr_strerror(enum util_addr_err e);

/* Conversions. to_sockaddr returns the length to pass to bind/sendto. */
socklen_t util_addr_to_sockaddr(const struct util_addr *a, struct sockaddr_storage *ss);
bool util_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct util_addr *out);

/* Same family and bytes (ports and scope ignored: a peer is known by its
 * address, whatever port it sends from). */
bool util_addr_same_host(const struct util_addr *a, const struct util_addr *b);
uint32_t util_addr_hash(const struct util_addr *a);
bool util_addr_is_multicast(const struct util_addr *a);
bool util_addr_is_any(const struct util_addr *a);
/* The addresses of the machine's interfaces (getifaddrs); 0 on failure. */
size_t util_addr_local_list(struct util_addr *out, size_t max);
/* Address only, or "addr:port" / "[addr]:port" when with_port. */
const char *util_addr_format(const struct util_addr *a, bool with_port, char *buf, size_t len);

#endif
