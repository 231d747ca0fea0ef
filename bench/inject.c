/*
 * inject: per-command latency of changing another process's name space,
 * three ways, in one run:
 *	ns9 ctl PID < 1000 commands		(one batch)
 *	echo 'bind ...' > CTL/PID/ns		(open, write, close per command)
 *	nsenter -t PID -m mount --bind ...	(util-linux, per command)
 * Each round uses a fresh target (ns9 rfork -n sleep) and fresh mount
 * points, so no round pays for undoing the last.  Run as root inside a
 * throwaway mount namespace (bench/inject-run does that).
 *	inject NS9 CTLMNT DIR ROUNDS
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 1000, NSENTER = 100, MAXROUNDS = 32 };

static const char *ns9, *ctl, *dir;

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void
die(const char *s)
{
	perror(s);
	exit(1);
}

/* Run argv, stdin from file (or /dev/null), stdout/stderr to /dev/null; exit status. */
static int
run(char **argv, const char *in)
{
	pid_t p;
	int st, fd;

	p = fork();
	if(p < 0)
		die("fork");
	if(p == 0){
		fd = open(in ? in : "/dev/null", O_RDONLY);
		dup2(fd, 0);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A fresh target: ns9 rfork -n sleep, its pid. */
static pid_t
target(void)
{
	pid_t p;

	p = fork();
	if(p < 0)
		die("fork");
	if(p == 0){
		execl(ns9, ns9, "rfork", "-n", "sleep", "600", (char *)NULL);
		_exit(127);
	}
	usleep(50000);
	return p;
}

/* DIR/r<round>/<kind><i>, made fresh. */
static void
points(int round, const char *kind, int n)
{
	char p[4096];
	int i;

	snprintf(p, sizeof p, "%s/r%d", dir, round);
	mkdir(p, 0755);
	for(i = 0; i < n; i++){
		snprintf(p, sizeof p, "%s/r%d/%s%d", dir, round, kind, i);
		if(mkdir(p, 0755) < 0 && errno != EEXIST)
			die(p);
	}
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof *v, cmpd);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	double tctl[MAXROUNDS], tns[MAXROUNDS], tnse[MAXROUNDS], t0;
	char path[4096], src[4096], cmd[8192], file[4096];
	char *av[16];
	struct rusage ru;
	int rounds, r, i, fd;
	pid_t t;
	FILE *f;

	if(argc != 5)
		return fprintf(stderr, "usage: inject NS9 CTLMNT DIR ROUNDS\n"), 2;
	ns9 = argv[1];
	ctl = argv[2];
	dir = argv[3];
	rounds = atoi(argv[4]);
	if(rounds < 1 || rounds > MAXROUNDS)
		return fprintf(stderr, "inject: 1 to %d rounds\n", MAXROUNDS), 2;
	snprintf(src, sizeof src, "%s/src", dir);
	mkdir(src, 0755);
	for(r = 0; r < rounds; r++){
		/* ns9 ctl: one batch of BATCH commands from a file. */
		points(r, "c", BATCH);
		snprintf(file, sizeof file, "%s/batch%d", dir, r);
		f = fopen(file, "w");
		for(i = 0; i < BATCH; i++)
			fprintf(f, "bind %s %s/r%d/c%d\n", src, dir, r, i);
		fclose(f);
		t = target();
		snprintf(path, sizeof path, "%d", (int)t);
		av[0] = (char *)ns9, av[1] = "ctl", av[2] = path, av[3] = NULL;
		t0 = now();
		if(run(av, file) != 0)
			die("ns9 ctl failed");
		tctl[r] = (now() - t0) / BATCH;
		kill(t, SIGKILL);
		waitpid(t, NULL, 0);

		/* The ns file: what `echo cmd > CTL/PID/ns` does, per command. */
		points(r, "n", BATCH);
		t = target();
		snprintf(path, sizeof path, "%s/%d/ns", ctl, (int)t);
		t0 = now();
		for(i = 0; i < BATCH; i++){
			int len = snprintf(cmd, sizeof cmd, "bind %s %s/r%d/n%d\n", src, dir, r, i);

			fd = open(path, O_WRONLY | O_TRUNC);
			if(fd < 0 || write(fd, cmd, len) != len)
				die(path);
			close(fd);
		}
		tns[r] = (now() - t0) / BATCH;
		kill(t, SIGKILL);
		waitpid(t, NULL, 0);

		/* nsenter + mount(8), per command. */
		points(r, "e", NSENTER);
		t = target();
		snprintf(path, sizeof path, "%d", (int)t);
		t0 = now();
		for(i = 0; i < NSENTER; i++){
			snprintf(cmd, sizeof cmd, "%s/r%d/e%d", dir, r, i);
			av[0] = "nsenter", av[1] = "-t", av[2] = path, av[3] = "-m", av[4] = "mount",
			av[5] = "--bind", av[6] = src, av[7] = cmd, av[8] = NULL;
			if(run(av, NULL) != 0)
				die("nsenter mount failed");
		}
		tnse[r] = (now() - t0) / NSENTER;
		kill(t, SIGKILL);
		waitpid(t, NULL, 0);
	}
	getrusage(RUSAGE_CHILDREN, &ru);
	{
		double c = median(tctl, rounds), n = median(tns, rounds), e = median(tnse, rounds);

		printf("per-command latency, median of %d rounds (ms)\n", rounds);
		printf("%-36s %10.4f\n", "ns9 ctl (batch of 1000)", c);
		printf("%-36s %10.4f\n", "echo > PID/ns (ns9fs)", n);
		printf("%-36s %10.4f\n", "nsenter -t PID -m mount --bind", e);
		printf("peak RSS of any child (ns9 ctl, nsenter, mount): %ld KiB\n", ru.ru_maxrss);
		printf("ratio nsenter / ns-file write: %.1f (target >= 20): %s\n", e / n, e / n >= 20 ? "PASS" : "MISS");
		printf("ratio nsenter / ctl batch: %.1f (target >= 50): %s\n", e / c, e / c >= 50 ? "PASS" : "MISS");
	}
	return 0;
}
