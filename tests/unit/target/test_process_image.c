/* test_process_image.c - reading a live process's memory: this process's
 * own, where the vDSO is always mapped, and the errors of an unmapped
 * address and of a process that does not exist. */
#include <elf.h>
#include <errno.h>
#include <sys/auxv.h>

#include "target/process_image.h"
#include "unit.h"

TEST(read_errors)
{
	char buf[16];
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);

	EXPECT_EQ(process_image__read(getpid(), 0, buf, sizeof(buf)), -EFAULT);
	EXPECT(vdso != 0);
	EXPECT_EQ(process_image__read(getpid(), vdso, buf, 4), 0);
	EXPECT(!memcmp(buf, ELFMAG, SELFMAG));
	EXPECT_EQ(process_image__read(0x7fffffff, vdso, buf, 4), -ESRCH);
}

RUN_TESTS("process_image", T(read_errors))
