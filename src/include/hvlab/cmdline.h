/**
 * @file cmdline.h
 * @brief Reading "key=value" words from a command line (the hypervisor's or a guest's).
 */
#ifndef HVLAB_CMDLINE_H
#define HVLAB_CMDLINE_H

#include <hvlab/types.h>

/**
 * Find the word "@p key=VALUE" in the space-separated @p cmdline. Returns a pointer to
 * VALUE (ending at the next space or NUL) and its length in *@p len, or NULL if absent.
 */
const char *cmdline_find(const char *cmdline, const char *key, size_t *len);

/** The decimal (or 0x-prefixed hex) value of "@p key=N", or @p fallback if missing or not a number. */
u64 cmdline_u64(const char *cmdline, const char *key, u64 fallback);

/** True when "@p key=@p value" is in @p cmdline. */
bool cmdline_is(const char *cmdline, const char *key, const char *value);

#endif
