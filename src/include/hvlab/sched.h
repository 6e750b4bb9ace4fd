/**
 * @file sched.h
 * @brief Which vCPU each physical CPU runs, and ending the run when every partition has ended.
 */
#ifndef HVLAB_SCHED_H
#define HVLAB_SCHED_H

#include <arch/percpu.h>

/**
 * Run, on CPU @p c, every vCPU assigned to it: round-robin among the runnable ones,
 * a time slice each when several share the CPU (src/core/sched.c), idle when none can
 * run, until every partition with a vCPU here has ended. When the last CPU finishes,
 * print the summary and power off with the machine's exit status. Never returns.
 */
void __attribute__((noreturn)) sched_run(struct cpu *c);

#endif
