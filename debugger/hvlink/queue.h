/**
 * @file queue.h
 * @brief A fixed-size byte queue: what one side of a link sent and the other has not taken yet.
 *
 * hvlink keeps one per direction of each link. Fixed size on purpose: a peer that stops
 * reading must not make hvlink grow without bound; what happens when a queue is full is
 * the caller's decision (hvlink.c: stop reading the sender, or drop a slow client).
 */
#ifndef HVLINK_QUEUE_H
#define HVLINK_QUEUE_H

#include <stddef.h>

#define QUEUE_SIZE 65536

struct queue {
	size_t len;                       /**< bytes waiting, at data[0 .. len) */
	unsigned char data[QUEUE_SIZE];
};

/** How many more bytes fit. */
size_t queue_room(const struct queue *q);

/** Append up to @p n bytes of @p p; returns how many fit (all of them, or fewer when full). */
size_t queue_push(struct queue *q, const void *p, size_t n);

/** Forget the first @p n bytes (those just written out); the rest moves to the front. */
void queue_pop(struct queue *q, size_t n);

#endif
