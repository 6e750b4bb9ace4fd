/**
 * @file selftest.h
 * @brief Deliberate faults for testing the hypervisor's crash reporting.
 */
#ifndef HVLAB_SELFTEST_H
#define HVLAB_SELFTEST_H

#include <hvlab/types.h>

/** Remember @p cmdline and run the self-test it names ("selftest=exception"), if any. */
void selftest_run(const char *cmdline);

/** Did the command line given to selftest_run() ask for "selftest=@p name"? */
bool selftest_requested(const char *name);

#endif
