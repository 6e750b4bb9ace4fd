/**
 * @file types.h
 * @brief Fixed-width integer types shared by the hypervisor, the guests and host unit tests.
 *
 * The hypervisor is freestanding, but host unit tests compile the same pure-logic files
 * against the C library; both see the same names.
 */
#ifndef HVLAB_TYPES_H
#define HVLAB_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) ((u64)1 << (n))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((u64)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a) - 1))
#define KiB(x) ((u64)(x) << 10)
#define MiB(x) ((u64)(x) << 20)
#define GiB(x) ((u64)(x) << 30)

#define PAGE_SIZE ((u64)4096)
#define PAGE_SHIFT 12

#endif
