/*
 * The pause container of keygate's local node: PID 1 of every pod sandbox, holding the pod's
 * namespaces open. It sleeps until SIGTERM or SIGINT (then exits 0) and reaps any child that
 * gets reparented to it, so a pod sharing its PID namespace leaves no zombies.
 * Built with `gcc -static`: the image is FROM scratch, with no libc to link against.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "3.10"

static void stop(int signal)
{
	(void)signal;
	_exit(0);
}

static void reap(int signal)
{
	(void)signal;
	while (waitpid(-1, NULL, WNOHANG) > 0) {
	}
}

static void handle(int signal, void (*handler)(int), int flags)
{
	struct sigaction action;
	memset(&action, 0, sizeof action);
	action.sa_handler = handler;
	action.sa_flags = flags;
	sigemptyset(&action.sa_mask);
	if (sigaction(signal, &action, NULL) < 0) {
		perror("sigaction");
		_exit(2);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		printf("pause.c %s (keygate.local)\n", VERSION);
		return 0;
	}
	if (getpid() != 1)
		fprintf(stderr, "pause: warning: not PID 1, children of others are not reaped here\n");
	handle(SIGINT, stop, 0);
	handle(SIGTERM, stop, 0);
	handle(SIGCHLD, reap, SA_NOCLDSTOP | SA_RESTART);
	for (;;)
		pause();
	return 1;
}
