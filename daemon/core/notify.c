// SPDX-License-Identifier: MIT
/* sd_notify and socket activation, the way chrony does it: a few lines, no library. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "notify.h"

#define LISTEN_FDS_START 3

int notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	socklen_t salen;
	int fd, err = 0;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = 0;	/* abstract namespace */
	salen = offsetof(struct sockaddr_un, sun_path) + len;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* $VAR was set by systemd for us: $LISTEN_PID / $WATCHDOG_PID names this process. */
static int for_us(const char *pid_var)
{
	const char *p = getenv(pid_var);

	return p && strtol(p, NULL, 10) == getpid();
}

uint64_t notify_watchdog_usec(void)
{
	const char *u = getenv("WATCHDOG_USEC");

	if (!u || (getenv("WATCHDOG_PID") && !for_us("WATCHDOG_PID")))
		return 0;
	return strtoull(u, NULL, 10);
}

int notify_listen_fd(void)
{
	const char *n = getenv("LISTEN_FDS");
	int accepting = 0;
	socklen_t len = sizeof(accepting);

	if (!n || !for_us("LISTEN_PID") || strtol(n, NULL, 10) < 1)
		return -1;
	/* Only a listening stream socket will do; anything else is a unit-file mistake. */
	if (getsockopt(LISTEN_FDS_START, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) || !accepting)
		return -1;
	fcntl(LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
	fcntl(LISTEN_FDS_START, F_SETFL, fcntl(LISTEN_FDS_START, F_GETFL) | O_NONBLOCK);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	return LISTEN_FDS_START;
}
