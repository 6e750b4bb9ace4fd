/**
 * @file conn.c
 * @brief Non-blocking TCP client with retries (see conn.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"

double conn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Copy @p n bytes of @p s into @p dst (size @p cap) as a string; false if too long or empty. */
static bool copy_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n == 0 || n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

int conn_parse_address(const char *spec, char *host, size_t hostlen, char *port,
		       size_t portlen, char *err, size_t errlen)
{
	const char *colon = strrchr(spec, ':');
	const char *h = spec, *p = colon ? colon + 1 : spec;
	size_t hlen = colon ? (size_t)(colon - spec) : 0;

	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') { /* [::1]:4557 */
		h++;
		hlen -= 2;
	}
	if (!colon) { /* just a port */
		h = CONN_DEFAULT_HOST;
		hlen = strlen(h);
	}
	bool digits = *p != '\0' && strspn(p, "0123456789") == strlen(p);
	if (!digits || !copy_part(port, portlen, p, strlen(p)) || !copy_part(host, hostlen, h, hlen)) {
		snprintf(err, errlen, "--connect %s: expected HOST:PORT (for example 127.0.0.1:%s)",
			 spec, CONN_DEFAULT_PORT);
		return -1;
	}
	return 0;
}

void conn_init(struct conn *c, const char *host, const char *port)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "%s", host);
	snprintf(c->port, sizeof(c->port), "%s", port);
	c->fd = -1;
	c->state = CONN_DOWN;
	snprintf(c->why, sizeof(c->why), "not tried yet");
}

void conn_close(struct conn *c, const char *why, double now)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = CONN_DOWN;
	c->out_len = 0;
	c->retry_at = now + CONN_RETRY_SECONDS;
	snprintf(c->why, sizeof(c->why), "%s", why);
}

/* Start a non-blocking connect to the first address @p c's host resolves to. */
static void start_connect(struct conn *c, double now)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int one = 1, rc = getaddrinfo(c->host, c->port, &hints, &ai);

	if (rc != 0) {
		conn_close(c, gai_strerror(rc), now);
		return;
	}
	c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		freeaddrinfo(ai);
		conn_close(c, strerror(errno), now);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* small packets */
	rc = connect(c->fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc == 0 || errno == EINPROGRESS)
		c->state = CONN_CONNECTING; /* poll() says writable: conn_handle() reports UP */
	else
		conn_close(c, strerror(errno), now);
}

void conn_tick(struct conn *c, double now)
{
	if (c->state == CONN_DOWN && now >= c->retry_at)
		start_connect(c, now);
}

bool conn_pollfd(const struct conn *c, struct pollfd *pfd)
{
	pfd->fd = c->fd;
	pfd->revents = 0;
	switch (c->state) {
	case CONN_CONNECTING:
		pfd->events = POLLOUT;
		return true;
	case CONN_UP:
		pfd->events = POLLIN | (c->out_len ? POLLOUT : 0);
		return true;
	default:
		pfd->fd = -1;
		pfd->events = 0;
		return false;
	}
}

/* Write what the socket accepts of the queue; -1 (connection closed) on an error. */
static int flush(struct conn *c, double now)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		if (n <= 0) {
			conn_close(c, n < 0 ? strerror(errno) : "connection closed", now);
			return -1;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	return 0;
}

int conn_send(struct conn *c, const void *data, size_t len, double now)
{
	if (c->state != CONN_UP)
		return -1;
	if (c->out_len + len > sizeof(c->out)) {
		conn_close(c, "the other end stopped reading", now);
		return -1;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return flush(c, now);
}

/* A non-blocking connect finished (or failed): which one? */
static enum conn_event finish_connect(struct conn *c, double now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		conn_close(c, strerror(err), now);
		return CONN_EV_DOWN;
	}
	c->state = CONN_UP;
	return CONN_EV_UP;
}

enum conn_event conn_handle(struct conn *c, short revents, char *buf, size_t cap,
			    size_t *got, double now)
{
	*got = 0;
	if (c->state == CONN_CONNECTING)
		return revents ? finish_connect(c, now) : CONN_EV_NONE;
	if (c->state != CONN_UP)
		return CONN_EV_NONE;
	if ((revents & POLLOUT) && flush(c, now) < 0)
		return CONN_EV_DOWN;
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return CONN_EV_NONE;
	ssize_t n = recv(c->fd, buf, cap, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return CONN_EV_NONE;
	if (n <= 0) {
		conn_close(c, n < 0 ? strerror(errno) : "the other end closed the connection", now);
		return CONN_EV_DOWN;
	}
	*got = (size_t)n;
	return CONN_EV_DATA;
}
