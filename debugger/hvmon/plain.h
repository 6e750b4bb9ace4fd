/**
 * @file plain.h
 * @brief hvmon --plain: no screen; commands from standard input, replies on standard
 *        output. For scripts and tests, and for terminals curses cannot drive.
 */
#ifndef HVMON_PLAIN_H
#define HVMON_PLAIN_H

/**
 * Read command lines from standard input until its end or `quit`; run each (hvmon's own
 * commands here, the others in the hypervisor) and print its reply. A hypervisor
 * command waits up to @p wait seconds for the connection to @p host : @p port. Returns
 * 0 if every command succeeded, 1 if one did not (each failure is said on stdout).
 */
int plain_run(const char *host, const char *port, double wait);

#endif
