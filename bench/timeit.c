/*
 * timeit.c: timeit [-n runs] [-w warmup] [-o file] -- cmd [arg...]: run cmd
 * warmup times untimed, then runs times (fork+execvp, stdout and stderr on
 * /dev/null); print "median_ms p10_ms p90_ms maxrss_kib" (wall time fork to
 * reaped exit; the child's peak RSS from wait4, max over the timed runs), and
 * append each time to file (-o).  A run that does not exit 0 stops it all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int devnull;
static int errfd;	/* the real stderr, for exec failures in the child */

static void
usage(void)
{
	fprintf(stderr, "usage: timeit [-n runs] [-w warmup] [-o file] -- cmd [arg...]\n");
	exit(2);
}

static int
number(const char *s, int min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if(errno != 0 || *end != 0 || end == s || v < min || v > 1000000)
		usage();
	return v;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One run of argv; returns milliseconds, *rss gets ru_maxrss (KiB). */
static double
run(char **argv, long *rss)
{
	struct rusage ru;
	double t0, t1;
	pid_t pid;
	int st;

	t0 = now();
	pid = fork();
	if(pid < 0){
		perror("timeit: fork");
		exit(1);
	}
	if(pid == 0){
		if(dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		dprintf(errfd, "timeit: exec %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	while(wait4(pid, &st, 0, &ru) < 0)
		if(errno != EINTR){
			perror("timeit: wait4");
			exit(1);
		}
	t1 = now();
	if(WIFSIGNALED(st)){
		fprintf(stderr, "timeit: %s: killed by signal %d\n", argv[0], WTERMSIG(st));
		exit(1);
	}
	if(WEXITSTATUS(st) != 0){
		fprintf(stderr, "timeit: %s: exit status %d\n", argv[0], WEXITSTATUS(st));
		exit(1);
	}
	*rss = ru.ru_maxrss;
	return t1 - t0;
}

static int
cmpdbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Percentile q of sorted v[0..n-1], interpolating between neighbours. */
static double
pct(const double *v, int n, double q)
{
	double pos;
	int i;

	pos = q * (n - 1);
	i = (int)pos;
	if(i >= n - 1)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

int
main(int argc, char **argv)
{
	double *t;
	long rss, maxrss;
	int c, i, runs, warm;
	const char *raw;
	FILE *f;

	runs = 10;
	warm = 1;
	raw = NULL;
	while((c = getopt(argc, argv, "+n:w:o:")) != -1)
		switch(c){
		case 'o':
			raw = optarg;
			break;
		case 'n':
			runs = number(optarg, 1);
			break;
		case 'w':
			warm = number(optarg, 0);
			break;
		default:
			usage();
		}
	argv += optind;
	if(*argv == NULL)
		usage();
	errfd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if(errfd < 0){
		perror("timeit: dup stderr");
		return 1;
	}
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if(devnull < 0){
		perror("timeit: /dev/null");
		return 1;
	}
	t = calloc(runs, sizeof *t);
	if(t == NULL){
		perror("timeit");
		return 1;
	}
	for(i = 0; i < warm; i++)
		run(argv, &rss);
	maxrss = 0;
	for(i = 0; i < runs; i++){
		t[i] = run(argv, &rss);
		if(rss > maxrss)
			maxrss = rss;
	}
	if(raw != NULL){
		f = fopen(raw, "ae");
		if(f == NULL){
			perror(raw);
			return 1;
		}
		for(i = 0; i < runs; i++)
			fprintf(f, "%.3f\n", t[i]);
		if(fclose(f) != 0){
			perror(raw);
			return 1;
		}
	}
	qsort(t, runs, sizeof *t, cmpdbl);
	printf("%.3f %.3f %.3f %ld\n", pct(t, runs, 0.5), pct(t, runs, 0.1), pct(t, runs, 0.9), maxrss);
	free(t);
	return 0;
}
