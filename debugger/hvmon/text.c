/**
 * @file text.c
 * @brief Lists of display-ready text lines (see text.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define TAB_STOP 8

void lines_init(struct lines *l, size_t max)
{
	lines_free(l);
	l->max = max;
}

void lines_clear(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

void lines_free(struct lines *l)
{
	lines_clear(l);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
}

/* Allocate or die: hvmon has no sensible way to go on without memory for its text. */
static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fputs("hvmon: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* A copy of @p len bytes of @p s with tabs expanded and control bytes made visible. */
static char *display_copy(const char *s, size_t len)
{
	size_t tabs = 0;
	for (size_t i = 0; i < len; i++)
		tabs += s[i] == '\t';
	char *out = xrealloc(NULL, len + tabs * (TAB_STOP - 1) + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t') {
			do
				out[o++] = ' ';
			while (o % TAB_STOP);
		} else if (c == '\r' && i == len - 1) {
			/* a CRLF line ending: drop the CR */
		} else {
			out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

void lines_add(struct lines *l, const char *s, size_t len)
{
	if (l->max && l->n == l->max) {
		free(l->v[0]);
		memmove(l->v, l->v + 1, (l->n - 1) * sizeof(*l->v));
		l->n--;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = display_copy(s, len);
}

void lines_add_text(struct lines *l, const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);
		lines_add(l, text, len);
		text += len + (nl != NULL);
	}
}

void lines_addf(struct lines *l, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (buf[0])
		lines_add_text(l, buf);
	else
		lines_add(l, "", 0); /* an intended empty line */
}
