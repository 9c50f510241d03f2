/* A stand-in for the Apple SDK's TargetConditionals.h. It exists only so that `cargo check`
 * (scripts/macos.sh) can compile ring's C for macOS on Debian, which has no Apple SDK; nothing
 * built with it is linked or run. It says what ring's base.h asks: the target is macOS.
 * aarch64-apple-darwin and x86_64-apple-darwin differ only in the CPU, which ring reads from the
 * compiler's own macros (__x86_64__, __aarch64__). */
#ifndef PKI_STANDIN_TARGETCONDITIONALS_H
#define PKI_STANDIN_TARGETCONDITIONALS_H

#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
#define TARGET_OS_TV 0
#define TARGET_OS_WATCH 0
#define TARGET_OS_VISION 0
#define TARGET_OS_SIMULATOR 0

#endif
