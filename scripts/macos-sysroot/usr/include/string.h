/* A stand-in for the C library's string.h of the Apple SDK. It exists only so that `cargo check`
 * (scripts/macos.sh) can compile ring's C for macOS on Debian, which has no Apple SDK; nothing
 * built with it is linked or run. It declares the two functions ring's C calls. */
#ifndef PKI_STANDIN_STRING_H
#define PKI_STANDIN_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

#endif
