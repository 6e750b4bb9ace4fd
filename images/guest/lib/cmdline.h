/**
 * @file cmdline.h
 * @brief Reading "key=value" words from the partition's command line (boot info).
 *
 * The scenario file gives each partition a command line (cmdline = "iter=2000 verbose"),
 * which the guest finds in struct hvlab_boot_info. Words are separated by spaces.
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <hvlab/types.h>

/** The decimal (or 0x-prefixed hex) value of "@p key=N" in the command line, or
 *  @p fallback if the key is missing or its value is not a number. */
u64 cmdline_get_u64(const char *key, u64 fallback);

#endif
