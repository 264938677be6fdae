/* sysinfo-probe: what a container program sees from sysinfo(2) and glibc's
 * sysconf, for test/bats/sysinfo.bats. Built static by the test (gcc -static,
 * and gcc -m32 -static for the i386 layout).
 *
 *   sysinfo-probe show            key=value lines (memory in bytes)
 *   sysinfo-probe loop SECONDS    call sysinfo in a loop; report calls,
 *                                 failures (with errno), slowest call, and
 *                                 each distinct totalram seen
 *   sysinfo-probe efault          sysinfo on an unmapped address
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int show(void)
{
	struct sysinfo si;
	memset(&si, 0xAB, sizeof si);
	if (sysinfo(&si) != 0) {
		printf("error=%d\n", errno);
		return 1;
	}
	unsigned long long u = si.mem_unit;
	printf("ptr_bits=%d\n", (int)(8 * sizeof(void *)));
	printf("mem_unit=%llu\n", u);
	printf("uptime=%lld\n", (long long)si.uptime);
	printf("load1=%llu\nload5=%llu\nload15=%llu\n", (unsigned long long)si.loads[0],
	       (unsigned long long)si.loads[1], (unsigned long long)si.loads[2]);
	printf("totalram=%llu\n", (unsigned long long)si.totalram * u);
	printf("freeram=%llu\n", (unsigned long long)si.freeram * u);
	printf("sharedram=%llu\n", (unsigned long long)si.sharedram * u);
	printf("bufferram=%llu\n", (unsigned long long)si.bufferram * u);
	printf("totalswap=%llu\n", (unsigned long long)si.totalswap * u);
	printf("freeswap=%llu\n", (unsigned long long)si.freeswap * u);
	printf("procs=%u\n", (unsigned)si.procs);
	long pg = sysconf(_SC_PAGESIZE);
	printf("phys_bytes=%llu\n", (unsigned long long)sysconf(_SC_PHYS_PAGES) * pg);
	printf("avphys_bytes=%llu\n", (unsigned long long)sysconf(_SC_AVPHYS_PAGES) * pg);
	return 0;
}

static int loop(double seconds)
{
	struct sysinfo si;
	unsigned long long calls = 0, failed = 0, last = 0;
	double slowest = 0, end = now() + seconds;
	int lasterr = 0;
	while (now() < end) {
		double t0 = now();
		int r = sysinfo(&si);
		double dt = now() - t0;
		if (dt > slowest)
			slowest = dt;
		calls++;
		if (r != 0) {
			failed++;
			lasterr = errno;
			continue;
		}
		unsigned long long total = (unsigned long long)si.totalram * si.mem_unit;
		if (total != last) {
			printf("totalram=%llu at=%.3f\n", total, seconds - (end - now()));
			fflush(stdout);
			last = total;
		}
	}
	printf("calls=%llu failed=%llu errno=%d slowest_ms=%.3f\n", calls, failed, lasterr, slowest * 1e3);
	return failed != 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return show();
	if (argc >= 3 && strcmp(argv[1], "loop") == 0)
		return loop(atof(argv[2]));
	if (argc >= 2 && strcmp(argv[1], "efault") == 0) {
		int r = sysinfo((struct sysinfo *)8);
		printf("ret=%d errno=%d\n", r, r ? errno : 0);
		return 0;
	}
	fprintf(stderr, "usage: %s show | loop SECONDS | efault\n", argv[0]);
	return 2;
}
