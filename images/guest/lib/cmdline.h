/**
 * @file cmdline.h
 * @brief Reading "key=value" words from the partition's command line (boot info).
 *
 * The scenario file gives each partition a command line (cmdline = "iter=2000 verbose"),
 * which the guest finds in struct hvlab_boot_info. The parsing itself is shared with the
 * hypervisor (src/lib/cmdline.c).
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <hvlab/cmdline.h>
#include <hvlab/guest_abi.h>

extern const struct hvlab_boot_info *boot_info;

/** The decimal (or 0x-prefixed hex) value of "@p key=N" in the command line, or
 *  @p fallback if the key is missing or its value is not a number. */
static inline u64 cmdline_get_u64(const char *key, u64 fallback)
{
	return cmdline_u64(boot_info->cmdline, key, fallback);
}

#endif
