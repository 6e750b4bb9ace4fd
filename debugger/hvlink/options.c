/**
 * @file options.c
 * @brief Parsing hvlink's command line (see options.h).
 *
 * By hand rather than with getopt: five options, each message names what was expected,
 * and the parser keeps no global state, so the unit tests can call it again and again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

const char options_usage[] =
	"usage: hvlink --link BOCHS_PORT:LISTEN_PORT [--link ...] [--host HOST] [--timeout SECONDS]\n"
	"\n"
	"Relays the debugger serial ports of a Bochs machine (COM2, COM3 in mode=socket-server)\n"
	"to debugger clients, so that the machine never waits for a client. See docs/running.md.\n"
	"\n"
	"  --link B:L       connect to Bochs' port B (retrying until Bochs listens) and let one\n"
	"                   client at a time in on port L (0: any free port, printed); a second\n"
	"                   client is refused. Bytes from Bochs with no client are discarded.\n"
	"  --host HOST      where Bochs listens (default " HVLINK_DEFAULT_HOST "); L is opened there too\n"
	"  --timeout S      give up when Bochs has not listened within S seconds (default 60)\n"
	"  --help           this text\n";

/* A decimal port number from @p s (whole string) in [min, 65535], or -1. */
static int parse_port(const char *s, size_t len, int min)
{
	long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= min && v <= 65535 ? (int)v : -1;
}

int options_parse_link(const char *text, struct link_spec *spec, char *err, size_t errlen)
{
	const char *colon = strchr(text, ':');

	if (colon) {
		spec->bochs_port = parse_port(text, (size_t)(colon - text), 1);
		spec->listen_port = parse_port(colon + 1, strlen(colon + 1), 0);
	}
	if (!colon || spec->bochs_port < 0 || spec->listen_port < 0) {
		snprintf(err, errlen,
			 "--link %s: expected BOCHS_PORT:LISTEN_PORT, two port numbers "
			 "(the listen port may be 0 for any free one), for example 40002:1234",
			 text);
		return -1;
	}
	return 0;
}

/* The same Bochs port twice, or the same (non-zero) listen port twice, is a typo. */
static int check_duplicates(const struct hvlink_options *o, char *err, size_t errlen)
{
	for (int i = 0; i < o->nlinks; i++)
		for (int j = 0; j < i; j++) {
			const struct link_spec *a = &o->links[i], *b = &o->links[j];
			int port = a->bochs_port == b->bochs_port ? a->bochs_port
				 : a->listen_port && a->listen_port == b->listen_port ? a->listen_port
				 : 0;
			if (port) {
				snprintf(err, errlen, "--link: port %d is given twice", port);
				return -1;
			}
		}
	return 0;
}

/* If argv[*i] is option @p name (as "--name VALUE" or "--name=VALUE"), return its value and
 * step past it; NULL with *missing set when the value is absent; NULL when not this option. */
static const char *option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0)
		return NULL;
	if (arg[n] == '=')
		return arg + n + 1;
	if (arg[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

enum options_result options_parse(int argc, char **argv, struct hvlink_options *o, char *err,
				  size_t errlen)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->host, sizeof(o->host), "%s", HVLINK_DEFAULT_HOST);
	o->timeout = HVLINK_DEFAULT_TIMEOUT;

	for (int i = 1; i < argc; i++) {
		const char *v;
		int missing = 0;
		char *end;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return OPTIONS_HELP;
		if ((v = option_value(argc, argv, &i, "--link", &missing))) {
			if (o->nlinks == HVLINK_MAX_LINKS) {
				snprintf(err, errlen, "--link: at most %d links", HVLINK_MAX_LINKS);
				return OPTIONS_BAD;
			}
			if (options_parse_link(v, &o->links[o->nlinks], err, errlen) < 0)
				return OPTIONS_BAD;
			o->nlinks++;
		} else if ((v = option_value(argc, argv, &i, "--host", &missing))) {
			if (!*v || strlen(v) >= sizeof(o->host)) {
				snprintf(err, errlen, "--host: expected a host name or address");
				return OPTIONS_BAD;
			}
			snprintf(o->host, sizeof(o->host), "%s", v);
		} else if ((v = option_value(argc, argv, &i, "--timeout", &missing))) {
			o->timeout = strtod(v, &end);
			if (end == v || *end || !(o->timeout > 0)) {
				snprintf(err, errlen, "--timeout %s: expected a number of seconds above 0", v);
				return OPTIONS_BAD;
			}
		} else if (missing) {
			snprintf(err, errlen, "%s: expected a value after it", argv[i]);
			return OPTIONS_BAD;
		} else {
			snprintf(err, errlen, "unknown argument '%s'", argv[i]);
			return OPTIONS_BAD;
		}
	}
	if (o->nlinks == 0) {
		snprintf(err, errlen, "no --link given: nothing to relay");
		return OPTIONS_BAD;
	}
	return check_duplicates(o, err, errlen) < 0 ? OPTIONS_BAD : OPTIONS_OK;
}
