/**
 * @file udivmoddi4.c
 * @brief The 64-bit division helper gcc -m32 calls for u64 '/' and '%' (in printf.c).
 *
 * It normally comes from libgcc, but the toolchain hvlab builds with has only the 64-bit
 * libgcc, so the 32-bit kernel brings its own: shift-and-subtract long division.
 */
#include <hvlab/types.h>

u64 __udivmoddi4(u64 n, u64 d, u64 *rem);

u64 __udivmoddi4(u64 n, u64 d, u64 *rem)
{
	u64 q = 0, r = 0;

	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= (u64)1 << i;
		}
	}
	if (rem)
		*rem = r;
	return q;
}
