/* test_listen_address.c - --listen's [ADDR:]PORT: loopback by default,
 * IPv4 and bracketed IPv6 addresses, ports 0 to 65535, names and junk
 * refused with the output untouched. */
#include <errno.h>

#include "serve/listen_address.h"
#include "unit.h"

static const char *round_trip(const char *s)
{
	static char buf[64];
	struct listen_address a;

	if (listen_address_parse(s, &a))
		return "refused";
	return listen_address_format(&a, buf, sizeof(buf));
}

TEST(accepted)
{
	EXPECT_STREQ(round_trip("9100"), "127.0.0.1:9100");
	EXPECT_STREQ(round_trip("0"), "127.0.0.1:0");
	EXPECT_STREQ(round_trip("0.0.0.0:65535"), "0.0.0.0:65535");
	EXPECT_STREQ(round_trip("10.1.2.3:80"), "10.1.2.3:80");
	EXPECT_STREQ(round_trip("[::1]:9100"), "[::1]:9100");
	EXPECT_STREQ(round_trip("[::]:9100"), "[::]:9100");
}

TEST(refused)
{
	static const char *const bad[] = {
		"", "65536", "-1", "+80", "80x", "localhost:80", "1.2.3:80", "1.2.3.4:",
		"1.2.3.4", "[::1]", "[::1]9100", "::1:9100", "[nope]:80", ":80",
		"1.2.3.4:99999999999999999999",
	};
	struct listen_address a = { .len = 7 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(listen_address_parse(bad[i], &a), -EINVAL);
		EXPECT_EQ(a.len, 7);
	}
}

RUN_TESTS("listen_address", T(accepted), T(refused))
