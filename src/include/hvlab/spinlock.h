/**
 * @file spinlock.h
 * @brief A test-and-test-and-set spinlock for the few data structures CPUs share.
 */
#ifndef HVLAB_SPINLOCK_H
#define HVLAB_SPINLOCK_H

#include <hvlab/types.h>

typedef struct {
	volatile u32 locked;
} spinlock_t;

#define SPINLOCK_INIT { 0 }

static inline void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (l->locked)
			__builtin_ia32_pause();
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
