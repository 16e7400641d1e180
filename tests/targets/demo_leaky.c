/* demo_leaky.c - a small "server" that leaks slowly, for `make demo`.
 *
 * It needs no signal: it prints "demo_leaky: pid <pid>" and loops forever,
 * one request every 200 ms. Per request:
 *
 *   copy_header <- parse_headers <- handle_request: malloc(48), leaked
 *   remember_session <- open_session <- handle_request: malloc(200), leaked
 *       every 5th request
 *   load_config <- reload_config: malloc(4096), leaked every 25th request
 *   response_cache: a ring of 8 blocks of 256 bytes, one replaced per
 *       request: full after 1.6 s, it then stays at 2048 bytes: not a leak
 *   build_response: a 1000-byte scratch buffer, freed
 *
 * So every second the leaks grow by 240 + 200 + 4096/5 bytes on average,
 * in three distinct call chains, while the cache stays flat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CACHE_SLOTS 8
#define CACHE_BLOCK 256

static void *leaked[1 << 16];
static unsigned int nleaked;
static void *volatile sink;

__attribute__((noinline)) static void keep(void *p)
{
	leaked[nleaked++ % (1 << 16)] = p;
}

__attribute__((noinline)) static void copy_header(const char *value)
{
	char *copy = malloc(48);

	snprintf(copy, 48, "%s", value);
	keep(copy);
}

__attribute__((noinline)) static void parse_headers(unsigned int request)
{
	copy_header(request % 2 ? "Accept: */*" : "Host: demo");
}

__attribute__((noinline)) static void remember_session(unsigned int request)
{
	unsigned int *session = malloc(200);

	memset(session, 0, 200);
	session[0] = request;
	keep(session);
}

__attribute__((noinline)) static void open_session(unsigned int request)
{
	if (request % 5 == 0)
		remember_session(request);
}

__attribute__((noinline)) static void response_cache(unsigned int request)
{
	static void *slots[CACHE_SLOTS];
	unsigned int slot = request % CACHE_SLOTS;

	free(slots[slot]);
	slots[slot] = malloc(CACHE_BLOCK);
	memset(slots[slot], (int)request, CACHE_BLOCK);
}

__attribute__((noinline)) static void build_response(unsigned int request)
{
	char *scratch = malloc(1000);

	snprintf(scratch, 1000, "response %u", request);
	sink = scratch;
	free(scratch);
}

__attribute__((noinline)) static void handle_request(unsigned int request)
{
	parse_headers(request);
	open_session(request);
	response_cache(request);
	build_response(request);
}

__attribute__((noinline)) static void load_config(void)
{
	char *config = malloc(4096);

	memset(config, ' ', 4096);
	keep(config);
}

__attribute__((noinline)) static void reload_config(unsigned int request)
{
	if (request % 25 == 0)
		load_config();
}

int main(void)
{
	struct timespec tick = { .tv_nsec = 200 * 1000 * 1000 };

	printf("demo_leaky: pid %d\n", (int)getpid());
	fflush(stdout);
	for (unsigned int request = 0;; request++) {
		handle_request(request);
		reload_config(request);
		nanosleep(&tick, NULL);
	}
}
