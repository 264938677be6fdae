/* threads.c: start N threads that sleep forever, print N, then sleep.
 * A cheap container with tens of thousands of threads for the task-scan
 * test (test/reliability/hardening.bash); built static by the test.
 * Raw clone(2) with small stacks from one mapping: no per-thread mmap, so
 * 50 000 threads stay far below vm.max_map_count. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STACK 8192

static int sleeper(void *arg)
{
	(void)arg;
	for (;;)
		syscall(SYS_pause);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, i;
	char *stacks = mmap(NULL, (size_t)n * STACK, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (stacks == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (clone(sleeper, stacks + (i + 1) * STACK,
			  CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM,
			  NULL) < 0) {
			perror("clone");
			break;
		}
	}
	printf("%ld\n", i);
	fflush(stdout);
	for (;;)
		syscall(SYS_pause);
}
