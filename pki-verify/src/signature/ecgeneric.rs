//! ECDSA and SM2 verification on any curve given by its parameters: every curve OpenSSL 3.0
//! names (the table in `curves.rs`, written by testdata/verify-conformance/curves.py) and any
//! explicit `ECParameters` a key carries. The fallback for curves no RustCrypto crate serves.
//!
//! Prime fields use affine arithmetic over `num-bigint`; binary fields GF(2^m) (the `sect*`,
//! `c2*` and Oakley curves) use a polynomial basis with the field's reduction polynomial, on
//! 64-bit words. Only public data is handled (a signature check), so nothing here needs to run
//! in constant time. As OpenSSL does, it refuses a public key or generator that is not on the
//! curve, the point at infinity as a key, and `r` or `s` outside `[1, n-1]`.

use num_bigint::BigUint;
use num_traits::{One as _, Zero as _};
use pki_x509::oid;
use x509_parser::der_parser::ber::BerObject;

/// OpenSSL's `OPENSSL_ECC_MAX_FIELD_BITS`: a larger field is refused when the key is decoded.
const MAX_FIELD_BITS: u64 = 661;

/// A field element of GF(2^m) in polynomial basis: bit `i` of the words is the coefficient of
/// x^i, least significant word first.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Poly(Vec<u64>);

impl Poly {
    fn zero(words: usize) -> Self {
        Poly(vec![0; words])
    }

    fn from_biguint(value: &BigUint, words: usize) -> Self {
        let mut digits = value.to_u64_digits();
        digits.resize(words.max(digits.len()), 0);
        Poly(digits)
    }

    fn to_biguint(&self) -> BigUint {
        let bytes: Vec<u8> = self.0.iter().flat_map(|w| w.to_le_bytes()).collect();
        BigUint::from_bytes_le(&bytes)
    }

    fn is_zero(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    fn bit(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// The degree plus one (0 for the zero polynomial).
    fn bits(&self) -> usize {
        for (i, &w) in self.0.iter().enumerate().rev() {
            if w != 0 {
                return i * 64 + 64 - w.leading_zeros() as usize;
            }
        }
        0
    }

    fn xor_assign(&mut self, other: &Poly) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a ^= b;
        }
    }

    /// `self ^= other << shift`, within `self`'s words.
    fn xor_shifted(&mut self, other: &Poly, shift: usize) {
        let (words, bits) = (shift / 64, shift % 64);
        let len = self.0.len();
        for (i, &w) in other.0.iter().enumerate() {
            if w == 0 {
                continue;
            }
            let at = i + words;
            if at < len {
                self.0[at] ^= w << bits;
            }
            if bits != 0 && at + 1 < len {
                self.0[at + 1] ^= w >> (64 - bits);
            }
        }
    }

    fn shl1(&mut self) {
        let mut carry = 0;
        for w in &mut self.0 {
            let next = *w >> 63;
            *w = *w << 1 | carry;
            carry = next;
        }
    }
}

/// GF(2^m) with the reduction polynomial `poly` (x^m included).
#[derive(Debug, Clone)]
struct BinaryField {
    m: usize,
    poly: Poly,
    words: usize,
}

impl BinaryField {
    fn mul(&self, a: &Poly, b: &Poly) -> Poly {
        let mut acc = Poly::zero(self.words);
        for i in (0..self.m).rev() {
            acc.shl1();
            if acc.bit(self.m) {
                acc.xor_assign(&self.poly);
            }
            if b.bit(i) {
                acc.xor_assign(a);
            }
        }
        acc
    }

    fn square(&self, a: &Poly) -> Poly {
        self.mul(a, a)
    }

    /// The inverse of a non-zero element (extended Euclid on polynomials).
    fn inv(&self, a: &Poly) -> Option<Poly> {
        if a.is_zero() {
            return None;
        }
        let (mut u, mut v) = (a.clone(), self.poly.clone());
        let mut g1 = Poly::zero(self.words);
        g1.0[0] = 1;
        let mut g2 = Poly::zero(self.words);
        loop {
            let du = u.bits();
            if du == 1 {
                return Some(g1);
            }
            if du == 0 {
                return None;
            }
            let dv = v.bits();
            if du < dv {
                std::mem::swap(&mut u, &mut v);
                std::mem::swap(&mut g1, &mut g2);
                continue;
            }
            let j = du - dv;
            u.xor_shifted(&v, j);
            g1.xor_shifted(&g2, j);
        }
    }

    fn reduce(&self, mut a: Poly) -> Poly {
        while a.bits() > self.m {
            let shift = a.bits() - 1 - self.m;
            a.xor_shifted(&self.poly, shift);
        }
        a.0.truncate(self.words);
        a.0.resize(self.words, 0);
        a
    }

    fn element(&self, value: &BigUint) -> Poly {
        let words = (value.bits() as usize).div_ceil(64).max(self.words) + 1;
        self.reduce(Poly::from_biguint(value, words))
    }

    /// The trace-based solution z of z^2 + z = beta (the half-trace, for odd m only).
    fn half_trace(&self, beta: &Poly) -> Option<Poly> {
        if self.m.is_multiple_of(2) {
            return None;
        }
        let mut z = beta.clone();
        for _ in 0..(self.m - 1) / 2 {
            z = self.square(&self.square(&z));
            z.xor_assign(beta);
        }
        let mut check = self.square(&z);
        check.xor_assign(&z);
        (check == *beta).then_some(z)
    }
}

/// The field of a curve.
#[derive(Debug, Clone)]
enum Field {
    Prime(BigUint),
    Binary(BinaryField),
}

/// A field element: an integer below p, or a polynomial of GF(2^m).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Element {
    Prime(BigUint),
    Binary(Poly),
}

/// An affine point; `None` is the point at infinity.
type Point = Option<(Element, Element)>;

/// A curve group: y^2 = x^3 + ax + b over a prime field, or y^2 + xy = x^3 + ax^2 + b over
/// GF(2^m), with its generator and the generator's order.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    field: Field,
    a: Element,
    b: Element,
    g: (Element, Element),
    n: BigUint,
}

fn integer(object: &BerObject<'_>) -> Option<BigUint> {
    let bytes = object.as_slice().ok()?;
    // Negative INTEGERs are refused, as OpenSSL refuses them for every field here.
    if bytes.first().is_some_and(|&b| b & 0x80 != 0) {
        return None;
    }
    Some(BigUint::from_bytes_be(bytes))
}

fn small(object: &BerObject<'_>) -> Option<usize> {
    usize::try_from(integer(object)?.to_u64()?).ok()
}

trait ToU64 {
    fn to_u64(&self) -> Option<u64>;
}

impl ToU64 for BigUint {
    fn to_u64(&self) -> Option<u64> {
        match self.to_u64_digits().as_slice() {
            [] => Some(0),
            [d] => Some(*d),
            _ => None,
        }
    }
}

/// The content of a primitive DER object (an OCTET STRING here).
fn content<'a>(object: &BerObject<'a>) -> Option<&'a [u8]> {
    object.as_slice().ok()
}

impl Group {
    /// The group of a named curve, by its dotted OID.
    pub(crate) fn named(oid: &str) -> Option<Group> {
        let (_, _, der) = super::curves::CURVES
            .iter()
            .find(|(_, o, _)| !o.is_empty() && *o == oid)?;
        Group::from_parameters_der(der)
    }

    /// The group of a DER `ECParameters` SEQUENCE (whole, with its header).
    pub(crate) fn from_parameters_der(der: &[u8]) -> Option<Group> {
        let (rest, object) = x509_parser::der_parser::parse_der(der).ok()?;
        if !rest.is_empty() {
            return None;
        }
        let x509_parser::der_parser::ber::BerObjectContent::Sequence(fields) = object.content
        else {
            return None;
        };
        Group::from_fields(&fields)
    }

    /// The group of the fields of an `ECParameters` SEQUENCE: version, fieldID, curve, base,
    /// order and an optional cofactor. Refused where OpenSSL's `EC_GROUP_new_from_ecparameters`
    /// refuses.
    pub(crate) fn from_fields(fields: &[BerObject<'_>]) -> Option<Group> {
        let [_version, field_id, curve, base, order, ..] = fields else {
            return None;
        };
        let field_id = field_id.as_sequence().ok()?;
        let field_type = field_id.first()?.as_oid().ok()?.to_id_string();
        let field = match field_type.as_str() {
            oid::PRIME_FIELD => {
                let p = integer(field_id.get(1)?)?;
                if p.bits() <= 2 || p.bits() > MAX_FIELD_BITS || !p.bit(0) {
                    return None;
                }
                Field::Prime(p)
            }
            oid::CHARACTERISTIC_TWO_FIELD => {
                let params = field_id.get(1)?.as_sequence().ok()?;
                let m = small(params.first()?)?;
                if m == 0 || m as u64 > MAX_FIELD_BITS {
                    return None;
                }
                let basis = params.get(1)?.as_oid().ok()?.to_id_string();
                let ks: Vec<usize> = match basis.as_str() {
                    oid::TP_BASIS => vec![small(params.get(2)?)?],
                    oid::PP_BASIS => params
                        .get(2)?
                        .as_sequence()
                        .ok()?
                        .iter()
                        .map(small)
                        .collect::<Option<_>>()?,
                    _ => return None,
                };
                // m > k > 0 (trinomial); m > k3 > k2 > k1 > 0 (pentanomial).
                let ordered = match ks.as_slice() {
                    [k] => m > *k && *k > 0,
                    [k1, k2, k3] => m > *k3 && k3 > k2 && k2 > k1 && *k1 > 0,
                    _ => false,
                };
                if !ordered {
                    return None;
                }
                let words = m / 64 + 1;
                let mut poly = Poly::zero(words);
                for bit in ks.iter().copied().chain([0, m]) {
                    poly.0[bit / 64] |= 1 << (bit % 64);
                }
                Field::Binary(BinaryField { m, poly, words })
            }
            _ => return None,
        };
        let curve = curve.as_sequence().ok()?;
        let a = BigUint::from_bytes_be(content(curve.first()?)?);
        let b = BigUint::from_bytes_be(content(curve.get(1)?)?);
        let n = integer(order)?;
        let field_bits = match &field {
            Field::Prime(p) => p.bits(),
            Field::Binary(f) => f.m as u64,
        };
        if n.is_zero() || n.bits() > field_bits + 1 {
            return None;
        }
        let (a, b) = match &field {
            Field::Prime(p) => (Element::Prime(a % p), Element::Prime(b % p)),
            Field::Binary(f) => (
                Element::Binary(f.element(&a)),
                Element::Binary(f.element(&b)),
            ),
        };
        let mut group = Group {
            field,
            a,
            b,
            g: (
                Element::Prime(BigUint::zero()),
                Element::Prime(BigUint::zero()),
            ),
            n,
        };
        group.g = group.decode_point(content(base)?)?;
        Some(group)
    }

    /// Whether a SEC1 point decodes onto this curve (not the point at infinity).
    pub(crate) fn point_decodes(&self, octets: &[u8]) -> bool {
        self.decode_point(octets).is_some()
    }

    /// The bit length of the group order.
    pub(crate) fn order_bits(&self) -> u64 {
        self.n.bits()
    }

    /// The byte length of a field element.
    fn element_len(&self) -> usize {
        match &self.field {
            Field::Prime(p) => (p.bits() as usize).div_ceil(8),
            Field::Binary(f) => f.m.div_ceil(8),
        }
    }

    fn element(&self, bytes: &[u8]) -> Option<Element> {
        let value = BigUint::from_bytes_be(bytes);
        match &self.field {
            Field::Prime(p) => (value < *p).then_some(Element::Prime(value)),
            Field::Binary(f) => ((value.bits() as usize) <= f.m)
                .then(|| Element::Binary(Poly::from_biguint(&value, f.words))),
        }
    }

    /// A SEC1 point (uncompressed, compressed or hybrid) on this curve; `None` for the point
    /// at infinity, a point off the curve or a malformed encoding.
    fn decode_point(&self, octets: &[u8]) -> Option<(Element, Element)> {
        let len = self.element_len();
        let (&form, rest) = octets.split_first()?;
        let point = match form {
            0x04 | 0x06 | 0x07 if rest.len() == 2 * len => {
                let x = self.element(&rest[..len])?;
                let y = self.element(&rest[len..])?;
                if form != 0x04 && self.y_bit(&x, &y)? != (form & 1 == 1) {
                    return None;
                }
                (x, y)
            }
            0x02 | 0x03 if rest.len() == len => {
                let x = self.element(rest)?;
                let y = self.decompress(&x, form & 1 == 1)?;
                (x, y)
            }
            _ => return None,
        };
        self.on_curve(&point).then_some(point)
    }

    /// The bit a compressed point keeps of y: its parity (prime field), or the low bit of y/x
    /// (binary field; 0 when x is 0).
    fn y_bit(&self, x: &Element, y: &Element) -> Option<bool> {
        match (&self.field, x, y) {
            (Field::Prime(_), _, Element::Prime(y)) => Some(y.bit(0)),
            (Field::Binary(f), Element::Binary(x), Element::Binary(y)) => {
                if x.is_zero() {
                    return Some(false);
                }
                Some(f.mul(y, &f.inv(x)?).bit(0))
            }
            _ => None,
        }
    }

    fn decompress(&self, x: &Element, odd: bool) -> Option<Element> {
        match (&self.field, x, &self.a, &self.b) {
            (Field::Prime(p), Element::Prime(x), Element::Prime(a), Element::Prime(b)) => {
                let rhs = (x * x * x + a * x + b) % p;
                let y = sqrt_mod(&rhs, p)?;
                let y = if y.bit(0) == odd { y } else { (p - &y) % p };
                (y.bit(0) == odd).then_some(Element::Prime(y))
            }
            (Field::Binary(f), Element::Binary(x), Element::Binary(a), Element::Binary(b)) => {
                if x.is_zero() {
                    // y = sqrt(b) = b^(2^(m-1)).
                    let mut y = b.clone();
                    for _ in 0..f.m - 1 {
                        y = f.square(&y);
                    }
                    return (!odd).then_some(Element::Binary(y));
                }
                // z^2 + z = x + a + b/x^2, y = x z.
                let mut beta = x.clone();
                beta.xor_assign(a);
                beta.xor_assign(&f.mul(b, &f.inv(&f.square(x))?));
                let mut z = f.half_trace(&beta)?;
                if z.bit(0) != odd {
                    z.0[0] ^= 1;
                }
                Some(Element::Binary(f.mul(x, &z)))
            }
            _ => None,
        }
    }

    fn on_curve(&self, (x, y): &(Element, Element)) -> bool {
        match (&self.field, x, y, &self.a, &self.b) {
            (
                Field::Prime(p),
                Element::Prime(x),
                Element::Prime(y),
                Element::Prime(a),
                Element::Prime(b),
            ) => (y * y) % p == (x * x * x + a * x + b) % p,
            (
                Field::Binary(f),
                Element::Binary(x),
                Element::Binary(y),
                Element::Binary(a),
                Element::Binary(b),
            ) => {
                let x2 = f.square(x);
                let mut lhs = f.square(y);
                lhs.xor_assign(&f.mul(x, y));
                let mut rhs = f.mul(&x2, x);
                rhs.xor_assign(&f.mul(a, &x2));
                rhs.xor_assign(b);
                lhs == rhs
            }
            _ => false,
        }
    }

    fn add(&self, p1: &Point, p2: &Point) -> Point {
        let (Some((x1, y1)), Some((x2, y2))) = (p1, p2) else {
            return p1.clone().or_else(|| p2.clone());
        };
        if x1 == x2 {
            return if y1 == y2 { self.double(p1) } else { None };
        }
        match (&self.field, x1, y1, x2, y2) {
            (
                Field::Prime(p),
                Element::Prime(x1),
                Element::Prime(y1),
                Element::Prime(x2),
                Element::Prime(y2),
            ) => {
                let num = (y2 + p - y1) % p;
                let den = (x2 + p - x1) % p;
                let lambda = num * den.modinv(p)? % p;
                let x3 = (&lambda * &lambda + 2u32 * p - x1 - x2) % p;
                let y3 = (lambda * ((x1 + p - &x3) % p) + p - y1) % p;
                Some((Element::Prime(x3), Element::Prime(y3)))
            }
            (
                Field::Binary(f),
                Element::Binary(x1),
                Element::Binary(y1),
                Element::Binary(x2),
                Element::Binary(y2),
            ) => {
                let Element::Binary(a) = &self.a else {
                    return None;
                };
                let mut dy = y1.clone();
                dy.xor_assign(y2);
                let mut dx = x1.clone();
                dx.xor_assign(x2);
                let lambda = f.mul(&dy, &f.inv(&dx)?);
                let mut x3 = f.square(&lambda);
                x3.xor_assign(&lambda);
                x3.xor_assign(&dx);
                x3.xor_assign(a);
                let mut t = x1.clone();
                t.xor_assign(&x3);
                let mut y3 = f.mul(&lambda, &t);
                y3.xor_assign(&x3);
                y3.xor_assign(y1);
                Some((Element::Binary(x3), Element::Binary(y3)))
            }
            _ => None,
        }
    }

    fn double(&self, point: &Point) -> Point {
        let (x, y) = point.as_ref()?;
        match (&self.field, x, y, &self.a) {
            (Field::Prime(p), Element::Prime(x), Element::Prime(y), Element::Prime(a)) => {
                if y.is_zero() {
                    return None;
                }
                let num = (3u32 * x * x + a) % p;
                let den = (2u32 * y) % p;
                let lambda = num * den.modinv(p)? % p;
                let x3 = (&lambda * &lambda + 2u32 * p - 2u32 * x) % p;
                let y3 = (lambda * ((x + p - &x3) % p) + p - y) % p;
                Some((Element::Prime(x3), Element::Prime(y3)))
            }
            (Field::Binary(f), Element::Binary(x), Element::Binary(y), Element::Binary(a)) => {
                if x.is_zero() {
                    return None;
                }
                let mut lambda = f.mul(y, &f.inv(x)?);
                lambda.xor_assign(x);
                let mut x3 = f.square(&lambda);
                x3.xor_assign(&lambda);
                x3.xor_assign(a);
                let mut l1 = lambda;
                l1.0[0] ^= 1;
                let mut y3 = f.square(x);
                y3.xor_assign(&f.mul(&l1, &x3));
                Some((Element::Binary(x3), Element::Binary(y3)))
            }
            _ => None,
        }
    }

    /// `u1 G + u2 Q` by Shamir's trick.
    fn double_mul(&self, u1: &BigUint, u2: &BigUint, q: &(Element, Element)) -> Point {
        let g = Some(self.g.clone());
        let q = Some(q.clone());
        let both = self.add(&g, &q);
        let mut r: Point = None;
        for i in (0..u1.bits().max(u2.bits())).rev() {
            r = self.double(&r);
            r = match (u1.bit(i), u2.bit(i)) {
                (true, true) => self.add(&r, &both),
                (true, false) => self.add(&r, &g),
                (false, true) => self.add(&r, &q),
                (false, false) => r,
            };
        }
        r
    }

    /// An affine x coordinate as an integer (a binary field element's bits read as one).
    fn x_integer(x: &Element) -> BigUint {
        match x {
            Element::Prime(x) => x.clone(),
            Element::Binary(x) => x.to_biguint(),
        }
    }

    /// The integer of a digest as ECDSA takes it (`ossl_ecdsa_simple_verify_sig`): the leftmost
    /// bits, as many as the order has.
    fn digest_integer(&self, digest: &[u8]) -> BigUint {
        let bits = self.n.bits() as usize;
        let mut len = digest.len();
        if 8 * len > bits {
            len = bits.div_ceil(8);
        }
        let e = BigUint::from_bytes_be(&digest[..len]);
        if 8 * len > bits {
            e >> (8 - bits % 8)
        } else {
            e
        }
    }

    fn in_range(&self, v: &BigUint) -> bool {
        !v.is_zero() && *v < self.n
    }

    /// ECDSA: the public key's SEC1 point, the digest, and `r`, `s` (from the DER signature).
    pub(crate) fn verify_ecdsa(&self, key: &[u8], digest: &[u8], r: &BigUint, s: &BigUint) -> bool {
        let Some(q) = self.decode_point(key) else {
            return false;
        };
        if !self.in_range(r) || !self.in_range(s) {
            return false;
        }
        let Some(w) = s.modinv(&self.n) else {
            return false;
        };
        let e = self.digest_integer(digest);
        let u1 = e * &w % &self.n;
        let u2 = r * &w % &self.n;
        match self.double_mul(&u1, &u2, &q) {
            Some((x, _)) => Group::x_integer(&x) % &self.n == *r,
            None => false,
        }
    }

    /// SM2 (GB/T 32918.2, `ossl_sm2_internal_verify`): `e` is SM3(Z || message), computed by
    /// the caller with [`Group::sm2_z`].
    pub(crate) fn verify_sm2(&self, key: &[u8], e: &BigUint, r: &BigUint, s: &BigUint) -> bool {
        let Some(q) = self.decode_point(key) else {
            return false;
        };
        if !self.in_range(r) || !self.in_range(s) {
            return false;
        }
        let t = (r + s) % &self.n;
        if t.is_zero() {
            return false;
        }
        match self.double_mul(s, &t, &q) {
            Some((x, _)) => (e + Group::x_integer(&x)) % &self.n == *r,
            None => false,
        }
    }

    /// What SM2 hashes before the message (`ossl_sm2_compute_z_digest`): ENTL, the ID, a, b,
    /// the generator and the public key, each field element at the field's byte length.
    pub(crate) fn sm2_z_input(&self, id: &[u8], key: &[u8]) -> Option<Vec<u8>> {
        let q = self.decode_point(key)?;
        let entl = u16::try_from(id.len().checked_mul(8)?).ok()?;
        let mut out = entl.to_be_bytes().to_vec();
        out.extend_from_slice(id);
        let len = self.element_len();
        for e in [&self.a, &self.b, &self.g.0, &self.g.1, &q.0, &q.1] {
            let bytes = Group::x_integer(e).to_bytes_be();
            out.extend(std::iter::repeat_n(0, len.checked_sub(bytes.len())?));
            out.extend_from_slice(&bytes);
        }
        Some(out)
    }
}

/// A square root of `a` modulo the odd prime `p` (Tonelli-Shanks), if one exists.
fn sqrt_mod(a: &BigUint, p: &BigUint) -> Option<BigUint> {
    let one = BigUint::one();
    if a.is_zero() {
        return Some(BigUint::zero());
    }
    let p1 = p - &one;
    // Euler's criterion.
    if a.modpow(&(&p1 >> 1), p) != one {
        return None;
    }
    let mut q = p1.clone();
    let mut s = 0u64;
    while !q.bit(0) {
        q >>= 1;
        s += 1;
    }
    // A non-residue. Half the numbers are one modulo a prime; explicit parameters may give a
    // composite "prime", for which the search is cut short.
    let mut z = BigUint::from(2u32);
    let mut tries = 0;
    while z.modpow(&(&p1 >> 1), p) != p1 {
        z += 1u32;
        tries += 1;
        if z >= *p || tries > 1000 {
            return None;
        }
    }
    let mut m = s;
    let mut c = z.modpow(&q, p);
    let mut t = a.modpow(&q, p);
    let mut r = a.modpow(&((&q + &one) >> 1), p);
    while t != one {
        let mut i = 0u64;
        let mut t2 = t.clone();
        while t2 != one {
            t2 = &t2 * &t2 % p;
            i += 1;
            if i >= m {
                return None;
            }
        }
        let b = c.modpow(&(BigUint::one() << (m - i - 1)), p);
        m = i;
        c = &b * &b % p;
        t = t * &c % p;
        r = r * b % p;
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_curve_of_the_table_parses_with_its_generator_on_the_curve() {
        for (name, _, der) in super::super::curves::CURVES {
            assert!(Group::from_parameters_der(der).is_some(), "{name}");
        }
    }

    #[test]
    fn binary_field_inverse_times_element_is_one() {
        let g = Group::named(oid::SECT233K1).unwrap(); // sect233k1
        let Field::Binary(f) = &g.field else { panic!() };
        let Element::Binary(x) = &g.g.0 else { panic!() };
        let product = f.mul(x, &f.inv(x).unwrap());
        assert_eq!(product.bits(), 1);
    }

    #[test]
    fn compressed_generators_decompress_to_the_generator() {
        for oid in [oid::SECP160R1, oid::SECT233K1, oid::PRIME239V1] {
            let g = Group::named(oid).unwrap();
            let len = g.element_len();
            let x = Group::x_integer(&g.g.0).to_bytes_be();
            let odd = g.y_bit(&g.g.0, &g.g.1).unwrap();
            let mut octets = vec![if odd { 3 } else { 2 }];
            octets.extend(std::iter::repeat_n(0, len - x.len()));
            octets.extend_from_slice(&x);
            assert_eq!(g.decode_point(&octets), Some(g.g.clone()), "{oid}");
        }
    }

    #[test]
    fn a_square_root_modulo_a_composite_gives_up_instead_of_searching_forever() {
        // 3 * 5 * 7 * 11 * 13 * 17 * 19 * 23 + 2: odd, composite, no element of order 2 to find.
        let composite = BigUint::from(111_546_437u32);
        let _ = sqrt_mod(&BigUint::from(4u32), &composite);
        assert_eq!(
            sqrt_mod(&BigUint::from(4u32), &BigUint::from(13u32)),
            Some(BigUint::from(11u32))
        );
    }

    #[test]
    fn the_point_at_infinity_and_off_curve_points_are_refused() {
        let g = Group::named(oid::SECP160R1).unwrap(); // secp160r1
        assert_eq!(g.decode_point(&[0]), None);
        let len = g.element_len();
        let mut octets = vec![4];
        octets.extend(std::iter::repeat_n(1, 2 * len));
        assert_eq!(g.decode_point(&octets), None);
    }
}
