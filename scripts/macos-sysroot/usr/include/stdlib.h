/* A stand-in for the C library's stdlib.h of the Apple SDK. It exists only so that `cargo check`
 * (scripts/macos.sh) can compile ring's C for macOS on Debian, which has no Apple SDK; nothing
 * built with it is linked or run. It declares what clang's own mm_malloc.h (reached through
 * immintrin.h in ring's x86_64 C) calls. */
#ifndef PKI_STANDIN_STDLIB_H
#define PKI_STANDIN_STDLIB_H

#include <stddef.h>

void *malloc(size_t size);
void free(void *ptr);

#endif
