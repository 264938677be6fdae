/*
 * reader: the benchmark's in-container workload, built static so it runs in
 * a bare busybox rootfs.
 *
 *   reader lat N REPS FILE...   per file and style, REPS lines
 *                               "FILE STYLE ns_per_read" where STYLE is
 *                               "open" (open + read to EOF + close, like cat)
 *                               or "seek" (one fd, lseek(0) + read, like
 *                               procps); files that cannot be opened print
 *                               "FILE STYLE na".
 *   reader loop FILE [SECONDS]  open + read + close FILE in a tight loop
 *                               (forever, or SECONDS, then print
 *                               "reads COUNT ELAPSED_NS"), at nice 19.
 *   reader stale TRIALS MIB FILE PHASE_MS
 *                               staleness: after a random 0..PHASE_MS pause,
 *                               allocate MIB MiB (touched) and time until
 *                               FILE's MemFree drops by half of it; after
 *                               another pause free it and time until MemFree
 *                               recovers; one line "alloc|free ms" per trial.
 *
 * Repetitions alternate with the files (file A rep 1, file B rep 1, ...)
 * so a burst of noise on the machine spreads over every file instead of
 * hitting one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 16];

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* read_eof reads fd to EOF; returns bytes or -1. */
static long read_eof(int fd)
{
	long total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return total;
		total += n;
	}
}

/* lat_open: ns per open + read-to-EOF + close, or -1. */
static double lat_open(const char *path, long n)
{
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		if (read_eof(fd) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return (double)(now_ns() - t0) / n;
}

/* lat_seek: ns per lseek(0) + one read on a kept fd (procps' file2str). */
static double lat_seek(const char *path, long n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (lseek(fd, 0, SEEK_SET) < 0 || read(fd, buf, sizeof buf) < 0) {
			close(fd);
			return -1;
		}
	}
	double r = (double)(now_ns() - t0) / n;
	close(fd);
	return r;
}

static void print_lat(const char *path, const char *style, double ns)
{
	if (ns < 0)
		printf("%s %s na\n", path, style);
	else
		printf("%s %s %.1f\n", path, style, ns);
}

static int cmd_lat(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: reader lat N REPS FILE...\n");
		return 2;
	}
	long n = atol(argv[0]);
	int reps = atoi(argv[1]);
	if (n <= 0 || reps <= 0) {
		fprintf(stderr, "reader: N and REPS must be positive\n");
		return 2;
	}
	for (int r = 0; r < reps; r++) {
		for (int i = 2; i < argc; i++) {
			/* warm the dentry and page caches once per file and rep */
			lat_open(argv[i], 10);
			print_lat(argv[i], "open", lat_open(argv[i], n));
			print_lat(argv[i], "seek", lat_seek(argv[i], n));
		}
		fflush(stdout);
	}
	return 0;
}

static int cmd_loop(int argc, char **argv)
{
	if (argc < 1 || argc > 2) {
		fprintf(stderr, "usage: reader loop FILE [SECONDS]\n");
		return 2;
	}
	/* Lowest priority: the loop takes every idle cycle without starving
	 * the machine; what the benchmark measures is the daemons' CPU time. */
	if (nice(19) == -1 && errno != 0)
		perror("nice");
	long long limit = argc == 2 ? atoll(argv[1]) * 1000000000LL : 0;
	long long t0 = now_ns(), t = t0;
	long count = 0;
	while (limit == 0 || t - t0 < limit) {
		/* check the clock every 64 reads: cheap next to the reads */
		for (int i = 0; i < 64; i++) {
			int fd = open(argv[0], O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				perror(argv[0]);
				return 1;
			}
			read_eof(fd);
			close(fd);
		}
		count += 64;
		t = now_ns();
	}
	printf("reads %ld %lld\n", count, t - t0);
	return 0;
}

/* memfree_kb parses MemFree from a meminfo-format file; -1 on error. */
static long memfree_kb(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	long n = read_eof(fd);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n < (long)sizeof buf ? n : (long)sizeof buf - 1] = 0;
	char *p = strstr(buf, "\nMemFree:");
	if (!p)
		return -1;
	return strtol(p + strlen("\nMemFree:"), NULL, 10);
}

/* wait_memfree polls path every millisecond until pred holds against
 * base; returns elapsed ms or -1 after 10 s. */
static double wait_memfree(const char *path, long base, long delta_kb, int drop)
{
	long long t0 = now_ns();
	struct timespec ms = {0, 1000000};
	while (now_ns() - t0 < 10000000000LL) {
		long v = memfree_kb(path);
		if (v >= 0 && (drop ? v <= base - delta_kb : v >= base + delta_kb))
			return (double)(now_ns() - t0) / 1e6;
		nanosleep(&ms, NULL);
	}
	return -1;
}

/* sleep_random sleeps a uniform 0..max_ms, so trials fall at every phase
 * of the refresh tick instead of right after the tick that ended the last
 * trial. */
static void sleep_random(long max_ms)
{
	if (max_ms <= 0)
		return;
	long ms = rand() % max_ms;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int cmd_stale(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: reader stale TRIALS MIB FILE PHASE_MS\n");
		return 2;
	}
	int trials = atoi(argv[0]);
	size_t bytes = (size_t)atol(argv[1]) << 20;
	const char *path = argv[2];
	long phase = atol(argv[3]);
	long half_kb = (long)(bytes >> 11);
	srand((unsigned)now_ns());
	for (int t = 0; t < trials;) {
		sleep_random(phase);
		long base = memfree_kb(path);
		if (base < 0) {
			fprintf(stderr, "reader: no MemFree in %s\n", path);
			return 1;
		}
		char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		memset(p, 1, bytes); /* charged to the cgroup when the pages fault in */
		printf("alloc %.2f\n", wait_memfree(path, base, half_kb, 1));
		t++;
		if (t < trials) {
			sleep_random(phase);
			long high = memfree_kb(path);
			munmap(p, bytes);
			printf("free %.2f\n", wait_memfree(path, high, half_kb, 0));
			t++;
		} else {
			munmap(p, bytes);
		}
		fflush(stdout);
	}
	return 0;
}

/* tick: a container that changes every second, as little as that takes:
 * once a second, map and touch 256 KiB or unmap it again, so the cgroup's
 * memory and CPU usage both move and nothing else happens. */
static int cmd_tick(int argc, char **argv)
{
	(void)argv;
	if (argc != 0) {
		fprintf(stderr, "usage: reader tick\n");
		return 2;
	}
	const size_t bytes = 256 << 10;
	char *p = NULL;
	struct timespec one = {1, 0};
	for (;;) {
		nanosleep(&one, NULL);
		if (p) {
			munmap(p, bytes);
			p = NULL;
			continue;
		}
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		memset(p, 1, bytes);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: reader lat|loop|stale|tick ...\n");
		return 2;
	}
	if (!strcmp(argv[1], "lat"))
		return cmd_lat(argc - 2, argv + 2);
	if (!strcmp(argv[1], "loop"))
		return cmd_loop(argc - 2, argv + 2);
	if (!strcmp(argv[1], "stale"))
		return cmd_stale(argc - 2, argv + 2);
	if (!strcmp(argv[1], "tick"))
		return cmd_tick(argc - 2, argv + 2);
	fprintf(stderr, "reader: unknown command %s\n", argv[1]);
	return 2;
}
