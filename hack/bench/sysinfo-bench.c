/* sysinfo-bench: sysinfo(2) cost inside a container, for hack/bench/sysinfo.sh.
 *
 *   sysinfo-bench lat N         time N calls one by one; print "p50_ns p99_ns max_ns"
 *   sysinfo-bench rate R SECS   call at R calls/s for SECS s (paced per 1 ms
 *                               slot); print "calls failed seconds"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sysinfo si;
	if (argc == 3 && strcmp(argv[1], "lat") == 0) {
		long n = atol(argv[2]);
		long long *d = malloc(n * sizeof *d);
		for (long i = 0; i < 100; i++) /* warm up */
			sysinfo(&si);
		for (long i = 0; i < n; i++) {
			long long t0 = now_ns();
			sysinfo(&si);
			d[i] = now_ns() - t0;
		}
		qsort(d, n, sizeof *d, cmp);
		printf("%lld %lld %lld\n", d[n / 2], d[n * 99 / 100], d[n - 1]);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "rate") == 0) {
		long rate = atol(argv[2]);
		double secs = atof(argv[3]);
		long long start = now_ns(), end = start + (long long)(secs * 1e9);
		long long calls = 0, failed = 0, t;
		while ((t = now_ns()) < end) {
			/* Calls due by now; the rest of the 1 ms slot is slept. */
			long long due = (t - start) * rate / 1000000000LL;
			while (calls < due) {
				if (sysinfo(&si) != 0)
					failed++;
				calls++;
			}
			struct timespec ts = {0, 1000000 - (now_ns() - start) % 1000000};
			nanosleep(&ts, NULL);
		}
		printf("%lld %lld %.3f\n", calls, failed, (now_ns() - start) / 1e9);
		return 0;
	}
	fprintf(stderr, "usage: %s lat N | rate R SECS\n", argv[0]);
	return 2;
}
