/**
 * @file cmdline.c
 * @brief "key=value" words in a command line; shared by the hypervisor and the guests.
 */
#include <hvlab/cmdline.h>
#include <hvlab/lib.h>

const char *cmdline_find(const char *cmdline, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	/* Look at each word: it matches if it starts with "key=". */
	while (p && *p) {
		while (*p == ' ')
			p++;
		const char *word = p;
		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - word) > klen && strncmp(word, key, klen) == 0 && word[klen] == '=') {
			*len = (size_t)(p - word) - klen - 1;
			return word + klen + 1;
		}
	}
	return NULL;
}

u64 cmdline_u64(const char *cmdline, const char *key, u64 fallback)
{
	size_t len;
	const char *s = cmdline_find(cmdline, key, &len);
	unsigned int base = 10;
	u64 v = 0;

	if (!s || !len)
		return fallback;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	for (; len; len--, s++) {
		unsigned int digit;
		if (*s >= '0' && *s <= '9')
			digit = *s - '0';
		else if (base == 16 && (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			digit = (*s | 0x20) - 'a' + 10;
		else
			return fallback;
		v = v * base + digit;
	}
	return v;
}

bool cmdline_is(const char *cmdline, const char *key, const char *value)
{
	size_t len;
	const char *s = cmdline_find(cmdline, key, &len);

	return s && len == strlen(value) && strncmp(s, value, len) == 0;
}
