/* listen_address.c - [ADDR:]PORT to a socket address, and back. */
#include "serve/listen_address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *s, in_port_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*out = htons((in_port_t)v);
	return 0;
}

static int parse_ipv6(const char *s, struct listen_address *a)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->addr;
	const char *close = strchr(s, ']');
	char host[INET6_ADDRSTRLEN];

	if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s + 1, (size_t)(close - s - 1));
	host[close - s - 1] = '\0';
	in6->sin6_family = AF_INET6;
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
		return -EINVAL;
	a->len = sizeof(*in6);
	return parse_port(close + 2, &in6->sin6_port);
}

static int parse_ipv4(const char *s, struct listen_address *a)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&a->addr;
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN];

	in->sin_family = AF_INET;
	a->len = sizeof(*in);
	if (!colon) {
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return parse_port(s, &in->sin_port);
	}
	if ((size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -EINVAL;
	return parse_port(colon + 1, &in->sin_port);
}

int listen_address_parse(const char *s, struct listen_address *out)
{
	struct listen_address a = { 0 };
	int r = s[0] == '[' ? parse_ipv6(s, &a) : parse_ipv4(s, &a);

	if (r == 0)
		*out = a;
	return r;
}

char *listen_address_format(const struct listen_address *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (a->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->addr;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&a->addr;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	}
	return buf;
}
