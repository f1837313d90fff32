#include "util/addr.h"
#include "util/strnum.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool looks_numeric(const char *s)
{
	bool only_digits_dots = true;

	for (const char *p = s; *p; p++) {
		if (*p == ':')
			return true;
		if (!isdigit((unsigned char)*p) && *p != '.')
			only_digits_dots = false;
	}
	return only_digits_dots;
}

static bool valid_hostname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (const char *p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
			return false;
	}
	return true;
}

static bool parse_v6(const char *s, struct util_addr *out)
{
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	char *pct;
	struct in6_addr a6;

	if (!util_strlcpy(buf, s, sizeof(buf)))
		return false;
	pct = strchr(buf, '%');
	if (pct)
		*pct++ = '\0';
	if (inet_pton(AF_INET6, buf, &a6) != 1)
		return false;
	memset(out, 0, sizeof(*out));
	out->family = AF_INET6;
	memcpy(out->bytes, &a6, 16);
	if (pct) {
		uint32_t idx = 0;

		if (util_parse_u32(pct, 1, UINT32_MAX, &idx) != UTIL_NUM_OK)
			idx = if_nametoindex(pct);
		if (idx == 0)
			return false;
		out->scope_id = idx;
	}
	return true;
}

static bool family_allowed(int family, enum util_addr_pref pref)
{
	if (pref == UTIL_ADDR_PREF_V4)
		return family == AF_INET;
	if (pref == UTIL_ADDR_PREF_V6)
		return family == AF_INET6;
	return family == AF_INET || family == AF_INET6;
}

static enum util_addr_err resolve(const char *s, enum util_addr_pref pref, struct util_addr *out)
{
	struct addrinfo hints, *res = NULL;
	int want_first =
		(pref == UTIL_ADDR_PREF_V4 || pref == UTIL_ADDR_PREF_V4_6) ? AF_INET : AF_INET6;
	bool found = false;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(s, NULL, &hints, &res) != 0 || !res)
		return UTIL_ADDR_UNRESOLVED;
	/* Two passes: the preferred family first, then the other if allowed. */
	for (int pass = 0; pass < 2 && !found; pass++) {
		for (struct addrinfo *ai = res; ai && !found; ai = ai->ai_next) {
			bool preferred = ai->ai_family == want_first;

			if (!family_allowed(ai->ai_family, pref) || (pass == 0) != preferred)
				continue;
			found = util_addr_from_sockaddr(ai->ai_addr, ai->ai_addrlen, out);
		}
	}
	freeaddrinfo(res);
	return found ? UTIL_ADDR_OK : UTIL_ADDR_FAMILY;
}

enum util_addr_err util_addr_parse(const char *s, enum util_addr_pref pref, bool allow_names,
				   struct util_addr *out)
{
	struct in_addr a4;

	if (!s || !*s)
		return UTIL_ADDR_INVALID;
	if (inet_pton(AF_INET, s, &a4) == 1) {
		memset(out, 0, sizeof(*out));
		out->family = AF_INET;
		memcpy(out->bytes, &a4, 4);
		return family_allowed(AF_INET, pref) ? UTIL_ADDR_OK : UTIL_ADDR_FAMILY;
	}
	if (parse_v6(s, out))
		return family_allowed(AF_INET6, pref) ? UTIL_ADDR_OK : UTIL_ADDR_FAMILY;
	if (looks_numeric(s) || !valid_hostname(s))
		return UTIL_ADDR_INVALID;
	if (!allow_names)
		return UTIL_ADDR_INVALID;
	return resolve(s, pref, out);
}

const char *util_addr_strerror(enum util_addr_err e)
{
	switch (e) {
	case UTIL_ADDR_OK:
		return "ok";
	case UTIL_ADDR_INVALID:
		return "is not a valid IPv4 or IPv6 address";
	case UTIL_ADDR_UNRESOLVED:
		return "does not resolve to an address";
	case UTIL_ADDR_FAMILY:
		return "is not of the IP version selected by totem.ip_version";
	}
	return "is invalid";
}

socklen_t util_addr_to_sockaddr(const struct util_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		sin6->sin6_scope_id = a->scope_id;
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		return sizeof(*sin6);
	}
	return 0;
}

bool util_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct util_addr *out)
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		out->family = AF_INET;
		out->port = ntohs(sin->sin_port);
		memcpy(out->bytes, &sin->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *b = (const uint8_t *)&sin6->sin6_addr;

		out->port = ntohs(sin6->sin6_port);
		/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; fold
		 * them so one peer has one identity. */
		if (memcmp(b, v4_mapped, 12) == 0) {
			out->family = AF_INET;
			memcpy(out->bytes, b + 12, 4);
		} else {
			out->family = AF_INET6;
			out->scope_id = sin6->sin6_scope_id;
			memcpy(out->bytes, b, 16);
		}
		return true;
	}
	return false;
}

static size_t addr_len(const struct util_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

bool util_addr_same_host(const struct util_addr *a, const struct util_addr *b)
{
	return a->family == b->family && a->family != 0 &&
	       memcmp(a->bytes, b->bytes, addr_len(a)) == 0;
}

uint32_t util_addr_hash(const struct util_addr *a)
{
	return util_fnv1a32(a->bytes, addr_len(a)) ^ a->family;
}

bool util_addr_is_multicast(const struct util_addr *a)
{
	if (a->family == AF_INET)
		return (a->bytes[0] & 0xf0) == 0xe0;
	return a->family == AF_INET6 && a->bytes[0] == 0xff;
}

bool util_addr_is_any(const struct util_addr *a)
{
	static const uint8_t zero[16];

	return a->family != 0 && memcmp(a->bytes, zero, addr_len(a)) == 0;
}

const char *util_addr_format(const struct util_addr *a, bool with_port, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (a->family == AF_INET || a->family == AF_INET6)
		inet_ntop(a->family, a->bytes, host, sizeof(host));
	if (!with_port)
		snprintf(buf, len, "%s", host);
	else if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, a->port);
	else
		snprintf(buf, len, "%s:%u", host, a->port);
	return buf;
}

size_t util_addr_local_list(struct util_addr *out, size_t max)
{
	struct ifaddrs *ifa = NULL;
	size_t n = 0;

	if (getifaddrs(&ifa) != 0)
		return 0;
	for (struct ifaddrs *i = ifa; i && n < max; i = i->ifa_next) {
		socklen_t len;

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			len = sizeof(struct sockaddr_in);
		else if (i->ifa_addr->sa_family == AF_INET6)
			len = sizeof(struct sockaddr_in6);
		else
			continue;
		if (util_addr_from_sockaddr(i->ifa_addr, len, &out[n]))
			n++;
	}
	freeifaddrs(ifa);
	return n;
}
