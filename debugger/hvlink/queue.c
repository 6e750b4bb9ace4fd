/**
 * @file queue.c
 * @brief The byte queue of hvlink (see queue.h). Linear, not a ring: a write takes from
 * the front and the rest slides down, which at 64 KiB costs nothing next to a socket call
 * and reads as plainly as it works.
 */
#include <string.h>

#include "queue.h"

size_t queue_room(const struct queue *q)
{
	return QUEUE_SIZE - q->len;
}

/* Take what fits, so that a caller reading a socket into the queue never loses bytes it
 * already has: it reads no more than queue_room() in the first place. */
size_t queue_push(struct queue *q, const void *p, size_t n)
{
	if (n > queue_room(q))
		n = queue_room(q);
	memcpy(q->data + q->len, p, n);
	q->len += n;
	return n;
}

/* Called with the count a write() accepted; more than is queued empties the queue. */
void queue_pop(struct queue *q, size_t n)
{
	if (n >= q->len) {
		q->len = 0;
		return;
	}
	memmove(q->data, q->data + n, q->len - n);
	q->len -= n;
}
