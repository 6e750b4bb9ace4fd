/**
 * @file cmdline.c
 * @brief cmdline_get_u64(): find "key=N" in the boot-info command line.
 */
#include <hvlab/lib.h>
#include "cmdline.h"
#include "guest.h"

/* Parse the number at @s up to a space or the end; false if it is not one. */
static bool parse_u64(const char *s, u64 *out)
{
	unsigned int base = 10;
	u64 v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0' || *s == ' ')
		return false;
	for (; *s && *s != ' '; s++) {
		unsigned int digit;
		if (*s >= '0' && *s <= '9')
			digit = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			digit = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			digit = *s - 'A' + 10;
		else
			return false;
		v = v * base + digit;
	}
	*out = v;
	return true;
}

u64 cmdline_get_u64(const char *key, u64 fallback)
{
	const char *p = boot_info->cmdline;
	size_t klen = strlen(key);
	u64 v;

	/* Look at each word: it matches if it starts with "key=". */
	while (*p) {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
			return parse_u64(p + klen + 1, &v) ? v : fallback;
		while (*p && *p != ' ')
			p++;
	}
	return fallback;
}
