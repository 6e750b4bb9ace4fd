/**
 * @file errors.c
 * @brief error_message(): one lookup for every module's error-code table.
 */
#include <hvlab/errors.h>

const char *error_message(int err, const char *const *messages, size_t count)
{
	if (err > 0 || (size_t)-(long)err >= count || !messages[-err])
		return "unknown error";
	return messages[-err];
}
