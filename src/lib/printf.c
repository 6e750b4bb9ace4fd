/**
 * @file printf.c
 * @brief vsnprintf() for freestanding code: the one formatter of the hypervisor and the guests.
 *
 * Conversions: %d %i %u %x %X %p %s %c %%; length modifiers l, ll, z; flags '-' and '0';
 * a field width (also '*'); a precision for %s (".N" or ".*": at most N characters). Output is truncated to the buffer, always NUL-terminated,
 * and the return value is the length the full output would have had (C99 §7.19.6.5).
 */
#include <hvlab/lib.h>

/** An output cursor that counts everything but stores only what fits. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;

	if (!left)
		while (fill-- > 0)
			put(o, pad);
	while (n--)
		put(o, *s++);
	if (left)
		while (fill-- > 0)
			put(o, ' ');
}

/* Format @v in @base into the end of tmp[]; returns the first digit. */
static char *format_unsigned(char *end, u64 v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	*--end = '\0';
	do {
		*--end = digits[v % base];
		v /= base;
	} while (v);
	return end;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		bool left = false;
		char pad = ' ';
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		int width = 0;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		int precision = -1;
		if (*fmt == '.') {
			fmt++;
			precision = 0;
			if (*fmt == '*') {
				precision = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				precision = precision * 10 + (*fmt++ - '0');
		}
		int longs = 0;
		while (*fmt == 'l' || *fmt == 'z') {
			longs += *fmt == 'z' ? 2 : 1;
			fmt++;
		}

		char tmp[24], *s;
		u64 v;
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 sv = longs ? va_arg(ap, s64) : va_arg(ap, int);
			s = format_unsigned(tmp + sizeof(tmp), sv < 0 ? -(u64)sv : (u64)sv, 10, false);
			if (sv < 0) {
				if (pad == '0') { /* the sign goes before zero padding: -0042 */
					put(&o, '-');
					width--;
				} else {
					*--s = '-';
				}
			}
			put_padded(&o, s, strlen(s), width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			v = longs ? va_arg(ap, u64) : va_arg(ap, unsigned int);
			s = format_unsigned(tmp + sizeof(tmp), v, *fmt == 'u' ? 10 : 16, *fmt == 'X');
			put_padded(&o, s, strlen(s), width, left, pad);
			break;
		case 'p':
			v = (u64)(uintptr_t)va_arg(ap, void *);
			s = format_unsigned(tmp + sizeof(tmp), v, 16, false);
			put(&o, '0');
			put(&o, 'x');
			put_padded(&o, s, strlen(s), width > 2 ? width - 2 : 0, left, pad);
			break;
		case 's':
			s = va_arg(ap, char *);
			if (!s)
				s = "(null)";
			put_padded(&o, s, precision >= 0 ? strnlen(s, (size_t)precision) : strlen(s), width,
				   left, ' ');
			break;
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			put_padded(&o, tmp, 1, width, left, ' ');
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--; /* a lone '%' at the end: stop at the NUL */
			break;
		default: /* unknown conversion: print it as written, so the mistake is visible */
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
