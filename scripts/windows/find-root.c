/* find-root SHA1: whether the LocalMachine\Root certificate store holds the certificate with
 * this SHA-1 thumbprint (40 hex digits), asked through crypt32 (CertOpenStore,
 * CertFindCertificateInStore) by a process that is not pki. scripts/windows.sh uses it to prove
 * under Wine that `pki install-ca --os-store` put the root where Windows' TLS clients look, and
 * that `pki uninstall-ca` took it out. Prints "found" (exit 0) or "not found" (exit 1); exit 2
 * when the store cannot be opened or the argument is not a thumbprint. */
#include <windows.h>
#include <wincrypt.h>
#include <stdio.h>

static int hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(int argc, char **argv)
{
    BYTE sha1[20];
    CRYPT_HASH_BLOB blob = { sizeof sha1, sha1 };
    HCERTSTORE store;
    PCCERT_CONTEXT found;
    int i;

    if (argc != 2 || strlen(argv[1]) != 40) {
        fprintf(stderr, "usage: find-root SHA1 (40 hex digits)\n");
        return 2;
    }
    for (i = 0; i < 20; i++) {
        int hi = hex(argv[1][2 * i]), lo = hex(argv[1][2 * i + 1]);
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "find-root: %s is not a SHA-1 thumbprint (40 hex digits)\n", argv[1]);
            return 2;
        }
        sha1[i] = (BYTE)(hi * 16 + lo);
    }
    store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                          CERT_SYSTEM_STORE_LOCAL_MACHINE | CERT_STORE_READONLY_FLAG |
                              CERT_STORE_OPEN_EXISTING_FLAG,
                          L"Root");
    if (!store) {
        fprintf(stderr, "find-root: cannot open LocalMachine\\Root (error %lu)\n", GetLastError());
        return 2;
    }
    found = CertFindCertificateInStore(store, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0,
                                       CERT_FIND_SHA1_HASH, &blob, NULL);
    printf("%s\n", found ? "found" : "not found");
    if (found)
        CertFreeCertificateContext(found);
    CertCloseStore(store, 0);
    return found ? 0 : 1;
}
