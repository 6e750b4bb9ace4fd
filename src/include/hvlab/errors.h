/**
 * @file errors.h
 * @brief Turning a module's negative error codes into their messages.
 */
#ifndef HVLAB_ERRORS_H
#define HVLAB_ERRORS_H

#include <hvlab/types.h>

/**
 * The message for error code @p err (0 or negative) from @p messages, a table indexed by
 * -err with @p count entries; "unknown error" for a positive code, one past the table,
 * or a hole in it.
 */
const char *error_message(int err, const char *const *messages, size_t count);

#endif
