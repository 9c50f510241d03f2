/* bcryptprimitives.dll for Wine 8, which lacks it: every Rust standard library since 1.78 imports
 * ProcessPrng from it, and without it a Rust program fails to load (exit 53, nothing printed).
 * ProcessPrng fills a buffer with random bytes; RtlGenRandom (advapi32's SystemFunction036)
 * does the same. Built by scripts/windows.sh with MinGW and copied into the throwaway Wine
 * prefix's system32; never part of pki. */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!RtlGenRandom(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
