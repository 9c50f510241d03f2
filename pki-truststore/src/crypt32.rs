//! The Windows certificate store of the local machine and the elevation of this process, through
//! crypt32 and advapi32 (`windows-sys`): the crate's one module of `unsafe`, each call's
//! contract stated beside it in a `// SAFETY:` comment. Handles are closed by their owners'
//! `Drop`. On every other platform the same functions say that the store exists only on
//! Windows: plans for it are built and tested everywhere, carried out on Windows only.
//!
//! The store is opened as a system store of the local machine (`CERT_STORE_PROV_SYSTEM_W`,
//! `CERT_SYSTEM_STORE_LOCAL_MACHINE`): what services and Schannel read. A certificate is
//! found by its SHA-1 thumbprint, added as encoded DER, deleted through its context; each
//! change is committed (`CERT_STORE_CTRL_COMMIT`) before the store is closed.

#[cfg(windows)]
pub(crate) use imp::elevated;
pub(crate) use imp::{add, delete, holds};

#[cfg(windows)]
#[allow(unsafe_code)]
mod imp {
    use std::io;
    use std::ptr;

    use windows_sys::Win32::Foundation::{CRYPT_E_EXISTS, CloseHandle, HANDLE};
    use windows_sys::Win32::Security::Cryptography::{
        CERT_CONTEXT, CERT_FIND_SHA1_HASH, CERT_STORE_ADD_NEW, CERT_STORE_CTRL_COMMIT,
        CERT_STORE_OPEN_EXISTING_FLAG, CERT_STORE_PROV_SYSTEM_W, CERT_STORE_READONLY_FLAG,
        CERT_SYSTEM_STORE_LOCAL_MACHINE, CRYPT_INTEGER_BLOB, CertAddEncodedCertificateToStore,
        CertCloseStore, CertControlStore, CertDeleteCertificateFromStore,
        CertFindCertificateInStore, CertFreeCertificateContext, CertOpenStore, HCERTSTORE,
        PKCS_7_ASN_ENCODING, X509_ASN_ENCODING,
    };
    use windows_sys::Win32::Security::{
        GetTokenInformation, TOKEN_ELEVATION, TOKEN_QUERY, TokenElevation,
    };
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    const ENCODING: u32 = X509_ASN_ENCODING | PKCS_7_ASN_ENCODING;

    /// An open store, closed on drop.
    struct Store(HCERTSTORE);

    impl Drop for Store {
        fn drop(&mut self) {
            // SAFETY: the handle came from a successful CertOpenStore and is closed once, here.
            unsafe { CertCloseStore(self.0, 0) };
        }
    }

    /// A certificate context found in a store, freed on drop.
    struct Found(*const CERT_CONTEXT);

    impl Drop for Found {
        fn drop(&mut self) {
            // SAFETY: the context came from CertFindCertificateInStore (not null) and is freed
            // once, here; `delete` takes it out of the guard before handing it on.
            unsafe { CertFreeCertificateContext(self.0) };
        }
    }

    /// An open handle (the process token), closed on drop.
    struct Handle(HANDLE);

    impl Drop for Handle {
        fn drop(&mut self) {
            // SAFETY: the handle came from a successful OpenProcessToken and is closed once.
            unsafe { CloseHandle(self.0) };
        }
    }

    impl Store {
        /// The local machine's system store `name` (`Root`), read-only or for changes.
        fn open(name: &str, writable: bool) -> io::Result<Store> {
            let wide: Vec<u16> = name.encode_utf16().chain([0]).collect();
            let mut flags = CERT_SYSTEM_STORE_LOCAL_MACHINE | CERT_STORE_OPEN_EXISTING_FLAG;
            if !writable {
                flags |= CERT_STORE_READONLY_FLAG;
            }
            // SAFETY: the provider is the API's constant for a system store, whose parameter
            // is a NUL-terminated UTF-16 name: `wide`, alive for the call; no crypto provider.
            let h = unsafe {
                CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, flags, wide.as_ptr().cast())
            };
            if h.is_null() {
                return Err(io::Error::last_os_error());
            }
            Ok(Store(h))
        }

        /// The certificate with this SHA-1 thumbprint, if the store holds it.
        fn find(&self, sha1: &[u8; 20]) -> Option<Found> {
            let blob = CRYPT_INTEGER_BLOB {
                cbData: 20,
                pbData: sha1.as_ptr().cast_mut(),
            };
            // SAFETY: the store is open; the find parameter of CERT_FIND_SHA1_HASH is a blob
            // of 20 bytes, which `blob` points at for the call (the API only reads it); no
            // previous context.
            let c = unsafe {
                CertFindCertificateInStore(
                    self.0,
                    ENCODING,
                    0,
                    CERT_FIND_SHA1_HASH,
                    (&raw const blob).cast(),
                    ptr::null(),
                )
            };
            (!c.is_null()).then_some(Found(c))
        }

        /// Commits the changes made through this handle.
        fn commit(&self) -> io::Result<()> {
            // SAFETY: the store is open; CERT_STORE_CTRL_COMMIT takes no parameter.
            let ok = unsafe { CertControlStore(self.0, 0, CERT_STORE_CTRL_COMMIT, ptr::null()) };
            if ok == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }
    }

    /// Whether this process runs elevated: its token's `TokenElevation`.
    pub(crate) fn elevated() -> io::Result<bool> {
        let mut token: HANDLE = ptr::null_mut();
        // SAFETY: GetCurrentProcess returns a pseudo-handle that needs no closing; `token` is
        // a local the call writes the new handle to.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let token = Handle(token);
        let mut elevation = TOKEN_ELEVATION { TokenIsElevated: 0 };
        let mut len = 0u32;
        // SAFETY: the token is open with TOKEN_QUERY; the buffer is a TOKEN_ELEVATION of the
        // size given, the class's documented structure; `len` is a local out-parameter.
        let ok = unsafe {
            GetTokenInformation(
                token.0,
                TokenElevation,
                (&raw mut elevation).cast(),
                size_of::<TOKEN_ELEVATION>() as u32,
                &mut len,
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(elevation.TokenIsElevated != 0)
    }

    /// Whether the local machine's store `name` holds the certificate with this SHA-1.
    pub(crate) fn holds(name: &str, sha1: &[u8; 20]) -> io::Result<bool> {
        Ok(Store::open(name, false)?.find(sha1).is_some())
    }

    /// Adds the certificate (DER) to the local machine's store `name`: true when added, false
    /// when the store held it already.
    pub(crate) fn add(name: &str, der: &[u8]) -> io::Result<bool> {
        let len = u32::try_from(der.len()).map_err(io::Error::other)?;
        let store = Store::open(name, true)?;
        // SAFETY: the store is open for changes; `der` is `len` bytes, alive for the call
        // (crypt32 copies them); no context is asked back.
        let ok = unsafe {
            CertAddEncodedCertificateToStore(
                store.0,
                X509_ASN_ENCODING,
                der.as_ptr(),
                len,
                CERT_STORE_ADD_NEW,
                ptr::null_mut(),
            )
        };
        if ok == 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(CRYPT_E_EXISTS) {
                return Ok(false);
            }
            return Err(e);
        }
        store.commit()?;
        Ok(true)
    }

    /// Deletes the certificate with this SHA-1 from the local machine's store `name`: true
    /// when deleted, false when the store did not hold it.
    pub(crate) fn delete(name: &str, sha1: &[u8; 20]) -> io::Result<bool> {
        let store = Store::open(name, true)?;
        let Some(found) = store.find(sha1) else {
            return Ok(false);
        };
        let context = found.0;
        // CertDeleteCertificateFromStore frees the context, whatever it returns.
        std::mem::forget(found);
        // SAFETY: `context` came from CertFindCertificateInStore on this open store and is
        // handed over (the guard forgotten, so it is not freed twice).
        if unsafe { CertDeleteCertificateFromStore(context) } == 0 {
            return Err(io::Error::last_os_error());
        }
        store.commit()?;
        Ok(true)
    }
}

/// Elsewhere the store does not exist: every call says so.
#[cfg(not(windows))]
mod imp {
    use std::io;

    fn absent() -> io::Error {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "the Windows certificate store exists only on Windows",
        )
    }

    /// Not there.
    pub(crate) fn holds(_name: &str, _sha1: &[u8; 20]) -> io::Result<bool> {
        Err(absent())
    }

    /// Not there.
    pub(crate) fn add(_name: &str, _der: &[u8]) -> io::Result<bool> {
        Err(absent())
    }

    /// Not there.
    pub(crate) fn delete(_name: &str, _sha1: &[u8; 20]) -> io::Result<bool> {
        Err(absent())
    }
}
