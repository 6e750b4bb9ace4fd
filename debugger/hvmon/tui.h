/**
 * @file tui.h
 * @brief hvmon on a terminal: the screen's main loop.
 */
#ifndef HVMON_TUI_H
#define HVMON_TUI_H

/**
 * Run the monitor screen against @p host : @p port until `quit`, Ctrl-D, SIGINT or
 * SIGTERM, then give the terminal back as it was. Returns the exit status: 0 after
 * quit or Ctrl-D, 128 + the signal's number after a signal.
 */
int tui_run(const char *host, const char *port);

#endif
