/* listen_address.h - the address --listen names: [ADDR:]PORT, ADDR an IPv4
 * address or an IPv6 one in brackets ([::1]:9100), loopback (127.0.0.1)
 * when only the port is given. Numeric only: a daemon that binds where a
 * name resolves today could bind elsewhere tomorrow. */
#ifndef LISTEN_ADDRESS_H
#define LISTEN_ADDRESS_H

#include <stddef.h>
#include <sys/socket.h>

struct listen_address {
	struct sockaddr_storage addr;
	socklen_t len;
};

/* Parse s. PORT is 0 to 65535 (0: one the kernel picks). Returns 0 and
 * *out, or -EINVAL; *out is untouched on failure. */
int listen_address_parse(const char *s, struct listen_address *out);
/* "127.0.0.1:9100", "[::1]:9100" into buf. Returns buf. */
char *listen_address_format(const struct listen_address *a, char *buf, size_t len);

#endif
