// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "pyprobe/ctl.h"
#include "ctl_client.h"

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

json_t *ctl_call(const char *socket_path, json_t *request, int timeout_ms, double progress_seconds)
{
	long long started = mono_ms();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *line = NULL, *buf = NULL;
	size_t len = 0, cap = 0, off = 0;
	long long deadline = mono_ms() + timeout_ms;
	json_t *reply = NULL;
	json_error_t jerr;
	int fd = -1, send_err = 0;

	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "pyprobe: socket path too long: %s\n", socket_path);
		return NULL;
	}
	strcpy(sa.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "pyprobe: cannot connect to pyprobed at %s: %s\n%s", socket_path, strerror(errno),
			errno == ENOENT || errno == ECONNREFUSED ?
			"Is the daemon running? Start it with 'pyprobed' (or systemctl start pyprobed), or point\n"
			"--socket / $" PP_CTL_SOCKET_ENV " at its socket.\n" : "");
		goto out;
	}
	line = json_dumps(request, JSON_COMPACT);
	if (!line)
		goto out;
	len = strlen(line);
	line[len] = '\n';	/* json_dumps left room: its NUL becomes the newline */
	for (size_t sent = 0; sent < len + 1;) {
		ssize_t n = send(fd, line + sent, len + 1 - sent, MSG_NOSIGNAL);

		if (n < 0) {
			/* A daemon that refuses us (too many clients) says why before closing: read it. */
			if (errno == EPIPE || errno == ECONNRESET) {
				send_err = errno;
				break;
			}
			fprintf(stderr, "pyprobe: sending the request: %s\n", strerror(errno));
			goto out;
		}
		sent += n;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - mono_ms();
		ssize_t n;

		int pr;

		if (progress_seconds > 0 && left > 1000)
			left = 1000;	/* wake every second to redraw the progress line */
		pr = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (pr == 0 && mono_ms() < deadline) {
			double done = (mono_ms() - started) / 1000.0;

			fprintf(stderr, "\rrecording %.0f/%.0f s", done < progress_seconds ? done : progress_seconds,
				progress_seconds);
			continue;
		}
		if (progress_seconds > 0)
			fputs("\r\033[K", stderr);
		if (pr <= 0) {
			fprintf(stderr, "pyprobe: no reply from pyprobed within %d s\n", timeout_ms / 1000);
			goto out;
		}
		if (off + 65536 > cap) {
			char *nb;

			if (cap >= PP_CTL_MAX_REPLY) {
				fprintf(stderr, "pyprobe: reply larger than %d bytes\n", PP_CTL_MAX_REPLY);
				goto out;
			}
			nb = realloc(buf, cap = cap ? cap * 2 : 65536 * 2);
			if (!nb)
				goto out;
			buf = nb;
		}
		n = recv(fd, buf + off, cap - off - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (send_err)
				fprintf(stderr, "pyprobe: sending the request: %s\n", strerror(send_err));
			else
				fprintf(stderr, "pyprobe: pyprobed closed the connection without a reply\n");
			goto out;
		}
		off += n;
		if (memchr(buf + off - n, '\n', n))
			break;
	}
	reply = json_loadb(buf, off, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!reply || !json_is_object(reply)) {
		fprintf(stderr, "pyprobe: malformed reply from pyprobed: %s\n", jerr.text);
		json_decref(reply);
		reply = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	free(line);
	free(buf);
	return reply;
}
