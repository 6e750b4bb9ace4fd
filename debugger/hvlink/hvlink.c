/**
 * @file hvlink.c
 * @brief hvlink: relays the debugger serial ports of a Bochs machine to debugger clients.
 *
 * Why it exists (PLATFORM.md): a Bochs COM port in mode=socket-server stops the whole
 * simulation until a client connects, and a client that goes away leaves Bochs one write
 * from SIGPIPE. hvlink is the client Bochs waits for, connected from start to end: the
 * machine never waits for a debugger, and debuggers (GDB on COM2, hvmon on COM3) come
 * and go on hvlink's own ports.
 *
 * What it does, in order:
 *   1. listen on every LISTEN_PORT (a port in use is reported before anything else);
 *   2. connect to every BOCHS_PORT, retrying every 100 ms: Bochs opens com2 and blocks
 *      in accept() until it has a client, then does the same with com3;
 *   3. relay, in one poll() loop, until Bochs closes its sockets (the machine stopped).
 *      Per link: bytes from Bochs go to the client, or are discarded when none is
 *      attached; bytes from the client go to Bochs. One client at a time: a second is
 *      accepted and closed at once (refused), with a message. A client that leaves ends
 *      nothing; the next one may come. What a client sent just before leaving (GDB's
 *      detach packet, say) still goes to Bochs. A client that connects before step 2 is
 *      done waits in the listen queue until the relay starts.
 *
 * Bochs is always read, whatever the client does, so a guest writing to the port never
 * blocks the emulator; a client that cannot keep up (64 KiB waiting for it) is dropped.
 * Messages go to stderr, one line each; "hvlink: ready" says every Bochs port is
 * connected (the harness, tests/harness/debug_ports.py, waits for that line).
 * Exit status: 0 once Bochs closed its side, 1 on an error (said in words), 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "options.h"
#include "queue.h"

#define RETRY_MS 100 /* between two attempts to connect to a Bochs port */

/** One relayed port: Bochs' side, the listener, and the client when one is attached. */
struct link {
	struct link_spec spec;   /* listen_port is the real one once listening */
	int bochs_fd;            /* connected to Bochs, -1 until then */
	int listen_fd;
	int client_fd;           /* -1 when no client is attached */
	char client[64];         /* the client's address, for messages */
	char bochs_why[320];     /* while connecting: why the last attempt failed */
	struct queue to_client;  /* from Bochs, not yet written to the client */
	struct queue to_bochs;   /* from the client, not yet written to Bochs */
	unsigned long long discarded; /* bytes from Bochs while no client was attached */
};

static struct hvlink_options opts;
static struct link links[HVLINK_MAX_LINKS];

/* One message line on stderr, written at once so lines of two programs never mix. */
static void say(const struct link *l, const char *fmt, ...)
{
	char line[512];
	int n = 0;
	va_list ap;

	n += snprintf(line, sizeof(line), "hvlink: ");
	if (l)
		n += snprintf(line + n, sizeof(line) - n, "link %d (Bochs port %d): ",
			      (int)(l - links) + 1, l->spec.bochs_port);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	snprintf(line + strlen(line), sizeof(line) - strlen(line), "\n");
	if (write(STDERR_FILENO, line, strlen(line)) < 0) {
		/* nowhere left to complain */
	}
}

/* Monotonic seconds, for the --timeout deadline (immune to clock changes). */
static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Non-blocking from now on: the relay loop must never sit in one read or write. TCP_NODELAY:
 * a debugger sends small packets and waits for each answer, so latency is everything. */
static void make_nonblocking(int fd)
{
	int one = 1;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* The port of an IPv4 or IPv6 socket address (sockets here are of no other kind). */
static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* "HOST:PORT" of a socket address, for messages. */
static void address_text(const struct sockaddr_storage *ss, char *text, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof(host));
	snprintf(text, len, "%s:%d", host, port_of(ss));
}

/* The addresses of opts.host : @p port, or NULL with the reason in @p why. */
static struct addrinfo *resolve(int port, int passive, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	char service[8];

	hints.ai_flags = passive ? AI_PASSIVE : 0;
	snprintf(service, sizeof(service), "%d", port);
	int rc = getaddrinfo(opts.host, service, &hints, &res);
	if (rc != 0) {
		snprintf(why, whylen, "%s: %s", opts.host, gai_strerror(rc));
		return NULL;
	}
	return res;
}

/* Step 1: listen for clients of @p l. Done before connecting to Bochs so that a port in
 * use is reported at once, and with port 0 the chosen port is known (and printed) early. */
static int open_listener(struct link *l)
{
	char why[320];
	struct addrinfo *ai = resolve(l->spec.listen_port, 1, why, sizeof(why));
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int one = 1;

	if (!ai) {
		say(l, "cannot listen: %s", why);
		return -1;
	}
	l->listen_fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	/* SO_REUSEADDR: a port whose last connection is in TIME_WAIT can be listened on again
	 * (it does not let two listeners share a port). */
	setsockopt(l->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->listen_fd < 0 || bind(l->listen_fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(l->listen_fd, 4) < 0) {
		int e = errno;
		say(l, "cannot listen on %s:%d: %s", opts.host, l->spec.listen_port,
		    e == EADDRINUSE ? "port in use (by another hvlink or program; choose another "
				      "port, or 0 for any free one)" : strerror(e));
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	getsockname(l->listen_fd, (struct sockaddr *)&ss, &len); /* the port, if 0 was asked */
	l->spec.listen_port = port_of(&ss);
	make_nonblocking(l->listen_fd);
	say(l, "listening on %s:%d for a debugger client", opts.host, l->spec.listen_port);
	return 0;
}

/* Step 2, one attempt: connect to Bochs' port of @p l. Returns 0 once connected, -1 with
 * the reason kept in l->bochs_why. A blocking connect bounded by SO_SNDTIMEO (1 s). */
static int try_connect_bochs(struct link *l)
{
	struct timeval tv = { .tv_sec = 1 };
	struct addrinfo *ai = resolve(l->spec.bochs_port, 0, l->bochs_why, sizeof(l->bochs_why));

	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			freeaddrinfo(ai);
			make_nonblocking(fd);
			l->bochs_fd = fd;
			say(l, "connected to Bochs at %s:%d", opts.host, l->spec.bochs_port);
			return 0;
		}
		snprintf(l->bochs_why, sizeof(l->bochs_why), "%s", strerror(errno));
		close(fd);
	}
	if (ai)
		freeaddrinfo(ai);
	return -1;
}

/* Step 2: connect to every Bochs port, retrying until Bochs listens or opts.timeout passes. */
static int connect_bochs_ports(void)
{
	double deadline = now_seconds() + opts.timeout;

	for (;;) {
		int waiting = 0;
		for (int i = 0; i < opts.nlinks; i++)
			if (links[i].bochs_fd < 0 && try_connect_bochs(&links[i]) < 0)
				waiting++;
		if (!waiting)
			return 0;
		if (now_seconds() > deadline)
			break;
		usleep(RETRY_MS * 1000);
	}
	for (int i = 0; i < opts.nlinks; i++)
		if (links[i].bochs_fd < 0)
			say(&links[i], "Bochs never listened on %s:%d within %.0f s (last attempt: %s); "
			    "is Bochs running with a COM port in mode=socket-server, dev=localhost:%d?",
			    opts.host, links[i].spec.bochs_port, opts.timeout, links[i].bochs_why,
			    links[i].spec.bochs_port);
	return -1;
}

/* The client of @p l is gone or must go: close it; the link itself goes on. */
static void drop_client(struct link *l, const char *why)
{
	say(l, "client %s %s; waiting for the next one", l->client, why);
	close(l->client_fd);
	l->client_fd = -1;
	l->to_client.len = 0; /* what Bochs said to this client is of no use to the next */
}

/* A client knocks on @p l's port: attach it, or refuse it if one is attached already. */
static void accept_client(struct link *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char who[64];
	int fd = accept(l->listen_fd, (struct sockaddr *)&ss, &len);

	if (fd < 0)
		return; /* gone already, or EAGAIN */
	address_text(&ss, who, sizeof(who));
	if (l->client_fd >= 0) {
		say(l, "refused client %s: one client at a time, and %s is attached", who, l->client);
		close(fd);
		return;
	}
	make_nonblocking(fd);
	l->client_fd = fd;
	snprintf(l->client, sizeof(l->client), "%s", who);
	say(l, "client %s attached (%llu bytes from Bochs discarded while none was)", who,
	    l->discarded);
}

/* Write what @p q holds to @p fd, as much as the socket takes now. -1 if the peer is gone. */
static int flush(int fd, struct queue *q)
{
	if (q->len == 0)
		return 0;
	ssize_t n = send(fd, q->data, q->len, MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	queue_pop(q, (size_t)n);
	return 0;
}

/* Bytes from Bochs: to the client, or discarded with none. 0 when Bochs closed (or failed). */
static int from_bochs(struct link *l)
{
	unsigned char buf[4096];
	ssize_t n = recv(l->bochs_fd, buf, sizeof(buf), 0);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 1 : 0;
	if (n == 0)
		return 0;
	if (l->client_fd < 0)
		l->discarded += (unsigned long long)n;
	else if (queue_push(&l->to_client, buf, (size_t)n) < (size_t)n)
		drop_client(l, "is not reading (64 KiB waiting for it); disconnected it");
	return 1;
}

/* Bytes from the client, queued for Bochs; read only while there is room, so a client
 * faster than the guest is slowed down, never Bochs. */
static void from_client(struct link *l)
{
	unsigned char buf[4096];
	size_t room = queue_room(&l->to_bochs);
	ssize_t n = recv(l->client_fd, buf, room < sizeof(buf) ? room : sizeof(buf), 0);

	if (n == 0)
		drop_client(l, "left");
	else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		drop_client(l, "failed");
	else if (n > 0)
		queue_push(&l->to_bochs, buf, (size_t)n);
}

/* Step 3: the relay loop. Returns when Bochs closes one of its sockets: the machine has
 * stopped (Bochs never closes one port alone). */
static int relay(void)
{
	for (;;) {
		struct pollfd pfd[3 * HVLINK_MAX_LINKS];
		int n = 0;

		for (int i = 0; i < opts.nlinks; i++) {
			struct link *l = &links[i];
			short to_bochs = l->to_bochs.len ? POLLOUT : 0;
			short client = (queue_room(&l->to_bochs) ? POLLIN : 0) |
				       (l->to_client.len ? POLLOUT : 0);
			/* Bochs is always read: that is what keeps the emulator from waiting. */
			pfd[n++] = (struct pollfd){ .fd = l->bochs_fd, .events = POLLIN | to_bochs };
			pfd[n++] = (struct pollfd){ .fd = l->listen_fd, .events = POLLIN };
			/* With no client, fd is -1, which poll() skips. */
			pfd[n++] = (struct pollfd){ .fd = l->client_fd, .events = client };
		}
		if (poll(pfd, n, -1) < 0 && errno != EINTR) {
			say(NULL, "poll: %s", strerror(errno));
			return 1;
		}
		for (int i = 0; i < opts.nlinks; i++) {
			struct link *l = &links[i];
			struct pollfd *p = &pfd[3 * i];
			if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !from_bochs(l)) {
				say(l, "Bochs closed the port (the machine stopped); exiting");
				return 0;
			}
			if (l->client_fd >= 0 && p[2].fd == l->client_fd &&
			    (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
				from_client(l);
			if (p[1].revents & POLLIN)
				accept_client(l);
			if (flush(l->bochs_fd, &l->to_bochs) < 0) {
				say(l, "Bochs closed the port (the machine stopped); exiting");
				return 0;
			}
			if (l->client_fd >= 0 && flush(l->client_fd, &l->to_client) < 0)
				drop_client(l, "left");
		}
	}
}

int main(int argc, char **argv)
{
	char err[256];

	switch (options_parse(argc, argv, &opts, err, sizeof(err))) {
	case OPTIONS_HELP:
		fputs(options_usage, stdout);
		return 0;
	case OPTIONS_BAD:
		fprintf(stderr, "hvlink: %s\n%s", err, options_usage);
		return 2;
	case OPTIONS_OK:
		break;
	}
	signal(SIGPIPE, SIG_IGN); /* a client gone mid-write is an error code, not our death */
	for (int i = 0; i < opts.nlinks; i++) {
		struct link *l = &links[i]; /* static, so its queues start empty */
		l->spec = opts.links[i];
		l->bochs_fd = l->listen_fd = l->client_fd = -1;
		if (open_listener(l) < 0)
			return 1;
	}
	if (connect_bochs_ports() < 0)
		return 1;
	say(NULL, "ready: connected to every Bochs port (%d)", opts.nlinks);
	return relay();
}
