/**
 * @file hvmon.c
 * @brief hvmon's entry point: options, then the screen (tui.c) or --plain (plain.c).
 *
 * hvmon is the host-side monitor of hvlab: it talks to the hypervisor's monitor port
 * (COM3 of the Bochs machine, a TCP socket) with the protocol described in
 * docs/design/monitor-protocol.md, and shows partitions, vCPUs, VMCS contents, exit
 * counters and consoles. docs/hvmon.md is the walkthrough.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conn.h"
#include "plain.h"
#include "tui.h"

#define EXIT_USAGE 2

static const char usage[] =
	"usage: hvmon [--connect HOST:PORT] [--plain [--wait SECONDS]]\n"
	"\n"
	"The hvlab monitor: shows and drives the hypervisor through its monitor port\n"
	"(COM3 of the Bochs machine). See docs/hvmon.md.\n"
	"\n"
	"  --connect HOST:PORT  the monitor port (default " CONN_DEFAULT_HOST ":" CONN_DEFAULT_PORT ")\n"
	"  --plain              no screen: commands from standard input, replies on\n"
	"                       standard output; exit status 1 if a command failed\n"
	"  --wait SECONDS       with --plain: how long a command waits for the connection\n"
	"                       (default 10)\n"
	"  --help               this text\n";

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "plain", no_argument, NULL, 'p' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char host[256] = CONN_DEFAULT_HOST, port[16] = CONN_DEFAULT_PORT, err[256], *end;
	bool plain = false;
	double wait = 10;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (conn_parse_address(optarg, host, sizeof(host), port, sizeof(port), err,
					       sizeof(err)) < 0) {
				fprintf(stderr, "hvmon: %s\n", err);
				return EXIT_USAGE;
			}
			break;
		case 'p':
			plain = true;
			break;
		case 'w':
			wait = strtod(optarg, &end);
			if (*end || wait < 0) {
				fprintf(stderr, "hvmon: --wait %s: expected a number of seconds\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hvmon: unexpected argument '%s'\n%s", argv[optind], usage);
		return EXIT_USAGE;
	}
	if (plain)
		return plain_run(host, port, wait);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fputs("hvmon: the screen needs a terminal; use --plain for scripts\n", stderr);
		return EXIT_USAGE;
	}
	return tui_run(host, port);
}
