/**
 * @file symbols.h
 * @brief Function names for addresses in the hypervisor image, for crash reports.
 */
#ifndef HVLAB_SYMBOLS_H
#define HVLAB_SYMBOLS_H

#include <hvlab/types.h>

/**
 * The function containing @p addr: its name, and the offset into it in *@p offset.
 * NULL when @p addr lies outside the hypervisor's code.
 */
const char *symbol_lookup(u64 addr, u64 *offset);

/** Print the chain of return addresses found by following saved frame pointers from @p rbp. */
void print_backtrace(u64 rbp);

#endif
