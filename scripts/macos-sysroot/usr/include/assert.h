/* A stand-in for the C library's assert.h of the Apple SDK. It exists only so that `cargo check`
 * (scripts/macos.sh) can compile ring's C for macOS on Debian, which has no Apple SDK; nothing
 * built with it is linked or run. ring's check.h uses assert() alone; a failed assertion traps,
 * as ring's own build without a C library does. */
#undef assert
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((e) ? (void)0 : __builtin_trap())
#endif
