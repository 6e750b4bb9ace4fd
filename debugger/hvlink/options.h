/**
 * @file options.h
 * @brief hvlink's command line, parsed into a struct (pure; tests/unit/test_hvlink.c).
 *
 *   hvlink --link BOCHS_PORT:LISTEN_PORT [--link ...] [--host HOST] [--timeout SECONDS]
 */
#ifndef HVLINK_OPTIONS_H
#define HVLINK_OPTIONS_H

#include <stddef.h>

#define HVLINK_MAX_LINKS 8
#define HVLINK_DEFAULT_HOST "127.0.0.1"
#define HVLINK_DEFAULT_TIMEOUT 60.0 /**< seconds to wait for Bochs to listen */

/** One --link: a Bochs COM port's socket, and where debugger clients come in for it. */
struct link_spec {
	int bochs_port;  /**< Bochs listens here (com2: mode=socket-server, dev=localhost:PORT) */
	int listen_port; /**< hvlink listens here for a client; 0: any free port (printed) */
};

struct hvlink_options {
	char host[256];  /**< where Bochs listens; hvlink's own listeners use it too */
	double timeout;  /**< give up if Bochs has not listened on every port by then */
	int nlinks;
	struct link_spec links[HVLINK_MAX_LINKS];
};

enum options_result { OPTIONS_OK, OPTIONS_HELP, OPTIONS_BAD };

extern const char options_usage[];

/** Parse "BOCHS_PORT:LISTEN_PORT". Returns 0, or -1 with a sentence in @p err. */
int options_parse_link(const char *text, struct link_spec *spec, char *err, size_t errlen);

/** Parse the whole command line (argv[0] is skipped); on OPTIONS_BAD, @p err says why. */
enum options_result options_parse(int argc, char **argv, struct hvlink_options *o, char *err,
				  size_t errlen);

#endif
