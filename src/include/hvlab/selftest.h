/**
 * @file selftest.h
 * @brief Deliberate faults for testing the hypervisor's crash reporting.
 */
#ifndef HVLAB_SELFTEST_H
#define HVLAB_SELFTEST_H

/** Run the self-test the command line names ("selftest=exception"), if any. */
void selftest_run(const char *cmdline);

#endif
