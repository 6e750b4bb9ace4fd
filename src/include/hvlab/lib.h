/**
 * @file lib.h
 * @brief The few C library functions hypervisor code uses.
 *
 * Inside the hypervisor these come from src/core/string.c and src/core/printf.c; in host
 * unit tests (HV_HOST defined) they are the C library's, so pure-logic files build
 * unchanged in both places.
 */
#ifndef HVLAB_LIB_H
#define HVLAB_LIB_H

#include <hvlab/types.h>
#include <stdarg.h>

#ifdef HV_HOST
#include <string.h>
#include <stdio.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/** printf-style formatting into @p buf (always NUL-terminated when @p size > 0);
 *  supports %d %i %u %x %X %p %s %c %% with l/ll/z, width, '0' and '-' flags,
 *  and a precision for %s. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
/** As vsnprintf(). */
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif

#endif
