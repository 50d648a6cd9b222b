//! The binary model format: a fixed little-endian header, the posterior's scalars, a CRC-32.
//!
//! ```text
//! offset  size      field
//!      0     4      magic b"SVGP"
//!      4     2      version (u16) = 1
//!      6     1      scalar type: 4 = f32, 8 = f64
//!      7     1      kind: 1 = feature kernel, 2 = closed-form kernel
//!      8     4      family (u32): which feature map / kernel type (ModelShape::FAMILY)
//!     12     4      input dimension D
//!     16    64      16 shape words (u32), family-specific, unused ones 0
//!     80     4      M, inducing points
//!     84     4      J, features (0 for a closed-form kernel)
//!     88     4      P, feature-map / kernel parameters
//!     92     4      count: scalars in the payload (must equal the posterior's storage length)
//!     96     8      reserved, 0
//!    104  count·s   payload: the posterior's storage, little-endian (s = scalar size)
//!    end     4      CRC-32 (IEEE) of every byte before it
//! ```
//!
//! The header is 104 bytes, a multiple of 8, so the payload is 8-byte aligned whenever the
//! blob is. The payload is the posterior's storage verbatim (see [`FeaturePosterior`] and
//! [`KernelPosterior`] for the layouts). Reading needs no allocator: the scalars are decoded
//! with `from_le_bytes` into caller storage, so the blob may sit anywhere (an
//! `include_bytes!` in flash included), with any alignment, on any endianness.
//!
//! Every failure is an [`Error`] naming the byte offset where it was detected; the
//! [`InvalidModel`](Error::InvalidModel) `what` strings of the header checks are the public
//! constants below, so callers can tell them apart. Non-finite payload values give
//! [`Error::NonFinite`]; a shape the reader cannot evaluate gives `InvalidModel` at the
//! offending header word.

use super::closed::KernelPosterior;
use super::crc32::crc32;
use super::feature::FeaturePosterior;
use super::shape::{ModelShape, StoredScalar, MAX_DIM, SHAPE_OFFSET, SHAPE_WORDS};
use crate::error::{check_buf, check_len, Error, Result};
use crate::features::FeatureMap;
use crate::kernel::Kernel;

/// The 4 bytes every blob starts with.
pub const MAGIC: [u8; 4] = *b"SVGP";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Header length in bytes (the payload's offset).
pub const HEADER_LEN: usize = 104;
/// Trailer (CRC-32) length in bytes.
pub const TRAILER_LEN: usize = 4;

/// The blob is shorter than its header says (or than a header).
pub const TRUNCATED: &str = "truncated blob";
/// The first four bytes are not `b"SVGP"`.
pub const BAD_MAGIC: &str = "wrong magic";
/// A version this reader does not know.
pub const BAD_VERSION: &str = "unsupported version";
/// The CRC-32 does not match the contents.
pub const BAD_CHECKSUM: &str = "checksum mismatch";
/// Bytes after the CRC-32.
pub const TRAILING_BYTES: &str = "trailing bytes after checksum";
/// A scalar-type byte other than 4 or 8, or not the type asked for.
pub const BAD_SCALAR: &str = "wrong scalar type";
/// A kind byte other than 1 or 2, or not the kind asked for.
pub const BAD_KIND: &str = "wrong model kind";
/// The family is not the feature map / kernel type asked for.
pub const BAD_FAMILY: &str = "wrong model family";
/// Sizes that no posterior can have (zero, too large, or inconsistent with each other).
pub const BAD_SHAPE: &str = "impossible shape";

/// Which posterior a blob holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// A feature kernel ([`FeaturePosterior`]).
    Feature = 1,
    /// A closed-form kernel ([`KernelPosterior`]).
    Kernel = 2,
}

/// A validated header: everything a caller needs to size storage before reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Bytes per stored scalar (4 or 8).
    pub scalar_size: u8,
    /// Feature or closed-form kernel.
    pub kind: ModelKind,
    /// The feature map's / kernel's family number.
    pub family: u32,
    /// Input dimension D.
    pub input_dim: u32,
    /// Family-specific shape words.
    pub shape: [u32; SHAPE_WORDS],
    /// Inducing points M.
    pub n_inducing: u32,
    /// Features J (0 for a closed-form kernel).
    pub n_features: u32,
    /// Parameters of the map or kernel.
    pub n_params: u32,
    /// Scalars in the payload: the storage length a reader must provide.
    pub count: usize,
}

const fn invalid(what: &'static str, at: usize) -> Error {
    Error::InvalidModel { what, at }
}

const fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

const fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The payload length a header's sizes imply, `None` on overflow. Mirrors the posteriors'
/// storage layouts (checked in tests against their `storage_len`).
fn implied_count(kind: ModelKind, d: usize, m: usize, j: usize, p: usize) -> Option<usize> {
    match kind {
        // [σ² | σ_n² | w (J) | B_s (M × J) | Q (M × M) | params]
        ModelKind::Feature => 2usize
            .checked_add(p)?
            .checked_add(j)?
            .checked_add(m.checked_mul(j)?)?
            .checked_add(m.checked_mul(m)?),
        // [σ_n² | α (M) | Z (M × D) | L_z, L packed | params]
        ModelKind::Kernel => {
            let tri = m.checked_add(1)?.checked_mul(m)? / 2;
            1usize
                .checked_add(p)?
                .checked_add(m)?
                .checked_add(m.checked_mul(d)?)?
                .checked_add(tri.checked_mul(2)?)
        }
    }
}

/// Parses and validates the header, the length and the checksum of `bytes` (the whole blob).
///
/// ```
/// use svgp::deploy::{read_header, Error};
/// let err = read_header(b"SVGQ").unwrap_err();
/// assert_eq!(err, Error::InvalidModel { what: svgp::deploy::TRUNCATED, at: 4 });
/// ```
pub fn read_header(bytes: &[u8]) -> Result<Header> {
    if bytes.len() < HEADER_LEN + TRAILER_LEN {
        return Err(invalid(TRUNCATED, bytes.len()));
    }
    let h = read_header_fields(bytes)?;
    let total = encoded_len_checked(h.count, h.scalar_size as usize).ok_or(invalid(BAD_SHAPE, 92))?;
    if bytes.len() < total {
        return Err(invalid(TRUNCATED, bytes.len()));
    }
    if bytes.len() > total {
        return Err(invalid(TRAILING_BYTES, total));
    }
    let body = total - TRAILER_LEN;
    if crc32(&bytes[..body]) != u32_at(bytes, body) {
        return Err(invalid(BAD_CHECKSUM, body));
    }
    Ok(h)
}

/// Blob length for `count` scalars of `size` bytes, `None` on overflow.
const fn encoded_len_checked(count: usize, size: usize) -> Option<usize> {
    match count.checked_mul(size) {
        Some(n) => n.checked_add(HEADER_LEN + TRAILER_LEN),
        None => None,
    }
}

/// Every header check that does not need the payload: magic, version, scalar type, kind,
/// sizes and their consistency with the payload count. `bytes` holds at least the header
/// (extra bytes are ignored); for a payload checked elsewhere, e.g. by [`payload_f32`].
pub fn read_header_fields(bytes: &[u8]) -> Result<Header> {
    if bytes.len() < HEADER_LEN {
        return Err(invalid(TRUNCATED, bytes.len()));
    }
    if bytes[..4] != MAGIC {
        return Err(invalid(BAD_MAGIC, 0));
    }
    if u16_at(bytes, 4) != VERSION {
        return Err(invalid(BAD_VERSION, 4));
    }
    let scalar_size = bytes[6];
    if scalar_size != 4 && scalar_size != 8 {
        return Err(invalid(BAD_SCALAR, 6));
    }
    let kind = match bytes[7] {
        1 => ModelKind::Feature,
        2 => ModelKind::Kernel,
        _ => return Err(invalid(BAD_KIND, 7)),
    };
    let family = u32_at(bytes, 8);
    let mut shape = [0u32; SHAPE_WORDS];
    for (i, w) in shape.iter_mut().enumerate() {
        *w = u32_at(bytes, SHAPE_OFFSET + 4 * i);
    }
    let (d, m, j, p) = (u32_at(bytes, 12), u32_at(bytes, 80), u32_at(bytes, 84), u32_at(bytes, 88));
    let in_range = |v: u32| (1..=MAX_DIM).contains(&v);
    let checks = [
        (12, in_range(d)),
        (80, in_range(m)),
        (84, if kind == ModelKind::Feature { in_range(j) } else { j == 0 }),
        (88, p <= MAX_DIM.saturating_mul(16)),
        (96, u32_at(bytes, 96) == 0 && u32_at(bytes, 100) == 0),
    ];
    if let Some(&(at, _)) = checks.iter().find(|(_, ok)| !ok) {
        return Err(invalid(BAD_SHAPE, at));
    }
    let count = u32_at(bytes, 92) as usize;
    let implied = implied_count(kind, d as usize, m as usize, j as usize, p as usize);
    if implied != Some(count) || encoded_len_checked(count, scalar_size as usize).is_none() {
        return Err(invalid(BAD_SHAPE, 92));
    }
    Ok(Header {
        scalar_size,
        kind,
        family,
        input_dim: d,
        shape,
        n_inducing: m,
        n_features: j,
        n_params: p,
        count,
    })
}

/// Checks a whole `f32` blob (length, magic, version, scalar type, payload count `N`,
/// checksum) and decodes its payload, in a `const` context: a firmware can keep the posterior
/// in flash as a `static [f32; N]` built at compile time, with no copy in RAM and no unsafe
/// cast. The shape checks and the finiteness checks run when the payload is viewed with
/// [`read_feature_in_place`] / [`read_kernel_in_place`].
///
/// ```
/// use svgp::deploy::{payload_f32, Error, TRUNCATED};
/// const BAD: Result<[f32; 2], Error> = payload_f32::<2>(b"SVGP");
/// assert_eq!(BAD, Err(Error::InvalidModel { what: TRUNCATED, at: 4 }));
/// ```
pub const fn payload_f32<const N: usize>(blob: &[u8]) -> Result<[f32; N]> {
    if blob.len() < HEADER_LEN + TRAILER_LEN {
        return Err(invalid(TRUNCATED, blob.len()));
    }
    if blob[0] != MAGIC[0] || blob[1] != MAGIC[1] || blob[2] != MAGIC[2] || blob[3] != MAGIC[3] {
        return Err(invalid(BAD_MAGIC, 0));
    }
    if u16_at(blob, 4) != VERSION {
        return Err(invalid(BAD_VERSION, 4));
    }
    if blob[6] != 4 {
        return Err(invalid(BAD_SCALAR, 6));
    }
    if u32_at(blob, 92) as usize != N {
        return Err(invalid(BAD_SHAPE, 92));
    }
    let total = HEADER_LEN + 4 * N + TRAILER_LEN;
    if blob.len() < total {
        return Err(invalid(TRUNCATED, blob.len()));
    }
    if blob.len() > total {
        return Err(invalid(TRAILING_BYTES, total));
    }
    let body = total - TRAILER_LEN;
    let (covered, _) = blob.split_at(body);
    if crc32(covered) != u32_at(blob, body) {
        return Err(invalid(BAD_CHECKSUM, body));
    }
    let mut out = [0.0f32; N];
    let mut i = 0;
    while i < N {
        let at = HEADER_LEN + 4 * i;
        out[i] = f32::from_le_bytes([blob[at], blob[at + 1], blob[at + 2], blob[at + 3]]);
        i += 1;
    }
    Ok(out)
}

/// Checks the header against the scalar type, kind and family asked for; decodes the shape.
fn check_types<S: StoredScalar, T: ModelShape>(h: &Header, kind: ModelKind) -> Result<T> {
    if h.scalar_size != S::CODE {
        return Err(invalid(BAD_SCALAR, 6));
    }
    if h.kind != kind {
        return Err(invalid(BAD_KIND, 7));
    }
    if h.family != T::FAMILY {
        return Err(invalid(BAD_FAMILY, 8));
    }
    T::decode_shape(&h.shape)
}

/// Validates the whole blob against the types asked for and decodes the payload into `storage`.
fn read_payload<'s, S: StoredScalar, T: ModelShape>(
    bytes: &[u8],
    kind: ModelKind,
    storage: &'s mut [S],
) -> Result<(Header, T, &'s [S])> {
    let h = read_header(bytes)?;
    let shape = check_types::<S, T>(&h, kind)?;
    check_buf("model storage", h.count, storage.len())?;
    let out = &mut storage[..h.count];
    let payload = &bytes[HEADER_LEN..HEADER_LEN + h.count * S::SIZE];
    for (o, chunk) in out.iter_mut().zip(payload.chunks_exact(S::SIZE)) {
        *o = S::read_le(chunk);
    }
    Ok((h, shape, out))
}

/// The header (first [`HEADER_LEN`] bytes of `header`) checked against the types asked for
/// and against a payload decoded elsewhere (by [`payload_f32`], which checked the checksum).
fn check_in_place<S: StoredScalar, T: ModelShape>(
    header: &[u8],
    kind: ModelKind,
    payload: &[S],
) -> Result<(Header, T)> {
    let h = read_header_fields(header)?;
    let shape = check_types::<S, T>(&h, kind)?;
    check_len("in-place payload", h.count, payload.len())?;
    Ok((h, shape))
}

/// Checks that the decoded shape agrees with the header's counts.
fn check_counts(h: &Header, d: usize, j: usize, p: usize) -> Result<()> {
    let checks =
        [(12, h.input_dim as usize == d), (84, h.n_features as usize == j), (88, h.n_params as usize == p)];
    match checks.iter().find(|(_, ok)| !ok) {
        Some(&(at, _)) => Err(invalid(BAD_SHAPE, at)),
        None => Ok(()),
    }
}

/// Reads a feature-kernel posterior from a blob into caller storage (at least
/// [`Header::count`] long; no allocation, no alignment requirement).
///
/// ```
/// use svgp::deploy::{read_feature, Error, TRUNCATED};
/// use svgp::features::DeepRff;
/// let mut storage = [0.0_f32; 64];
/// let err = read_feature::<f32, DeepRff>(&[0u8; 10], &mut storage).unwrap_err();
/// assert_eq!(err, Error::InvalidModel { what: TRUNCATED, at: 10 });
/// ```
pub fn read_feature<'s, S: StoredScalar, F: FeatureMap + ModelShape>(
    bytes: &[u8],
    storage: &'s mut [S],
) -> Result<FeaturePosterior<'s, S, F>> {
    let (h, map, values) = read_payload::<S, F>(bytes, ModelKind::Feature, storage)?;
    check_counts(&h, map.input_dim(), map.n_features(), map.n_params())?;
    FeaturePosterior::from_storage(map, h.n_inducing as usize, values)
}

/// Views a payload that already sits in memory (typically a `static` array in flash built
/// by [`payload_f32`]) as a feature-kernel posterior, without copying: `header` is the blob's
/// header (or the whole blob); the shape, counts and every value are checked here.
pub fn read_feature_in_place<'s, S: StoredScalar, F: FeatureMap + ModelShape>(
    header: &[u8],
    payload: &'s [S],
) -> Result<FeaturePosterior<'s, S, F>> {
    let (h, map) = check_in_place::<S, F>(header, ModelKind::Feature, payload)?;
    check_counts(&h, map.input_dim(), map.n_features(), map.n_params())?;
    FeaturePosterior::from_storage(map, h.n_inducing as usize, payload)
}

/// [`read_feature_in_place`] for a closed-form-kernel posterior.
pub fn read_kernel_in_place<'s, S: StoredScalar, K: Kernel + ModelShape>(
    header: &[u8],
    payload: &'s [S],
) -> Result<KernelPosterior<'s, S, K>> {
    let (h, kernel) = check_in_place::<S, K>(header, ModelKind::Kernel, payload)?;
    check_counts(&h, kernel.input_dim(), 0, kernel.n_params())?;
    KernelPosterior::from_storage(kernel, h.n_inducing as usize, payload)
}

/// Reads a closed-form-kernel posterior from a blob into caller storage.
pub fn read_kernel<'s, S: StoredScalar, K: Kernel + ModelShape>(
    bytes: &[u8],
    storage: &'s mut [S],
) -> Result<KernelPosterior<'s, S, K>> {
    let (h, kernel, values) = read_payload::<S, K>(bytes, ModelKind::Kernel, storage)?;
    check_counts(&h, kernel.input_dim(), 0, kernel.n_params())?;
    KernelPosterior::from_storage(kernel, h.n_inducing as usize, values)
}

/// Blob length for a payload of `count` scalars of type `S`.
pub fn encoded_len<S: StoredScalar>(count: usize) -> usize {
    HEADER_LEN + count * S::SIZE + TRAILER_LEN
}

fn put_u32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Writes header, payload and checksum into `out`; returns the bytes written.
fn write_blob<S: StoredScalar, T: ModelShape>(
    shape: &T,
    kind: ModelKind,
    dims: [usize; 4],
    values: &[S],
    out: &mut [u8],
) -> Result<usize> {
    let len = encoded_len::<S>(values.len());
    check_buf("blob output", len, out.len())?;
    let mut words = [0u32; SHAPE_WORDS];
    shape.encode_shape(&mut words)?;
    let out = &mut out[..len];
    out[..HEADER_LEN].iter_mut().for_each(|b| *b = 0);
    out[..4].copy_from_slice(&MAGIC);
    out[4..6].copy_from_slice(&VERSION.to_le_bytes());
    out[6] = S::CODE;
    out[7] = kind as u8;
    put_u32(out, 8, T::FAMILY);
    for (i, &w) in words.iter().enumerate() {
        put_u32(out, SHAPE_OFFSET + 4 * i, w);
    }
    let [d, m, j, p] = dims;
    let word = |v: usize| {
        u32::try_from(v).map_err(|_| Error::InvalidParameter { what: "model size", value: v as f64 })
    };
    put_u32(out, 12, word(d)?);
    put_u32(out, 80, word(m)?);
    put_u32(out, 84, word(j)?);
    put_u32(out, 88, word(p)?);
    put_u32(out, 92, word(values.len())?);
    for (chunk, &v) in out[HEADER_LEN..len - TRAILER_LEN].chunks_exact_mut(S::SIZE).zip(values) {
        v.write_le(chunk);
    }
    let crc = crc32(&out[..len - TRAILER_LEN]);
    put_u32(out, len - TRAILER_LEN, crc);
    Ok(len)
}

/// Writes a feature-kernel posterior as a blob into `out` (at least
/// [`encoded_len`]`(post.storage().len())` bytes); returns the length written.
pub fn write_feature<S: StoredScalar, F: FeatureMap + ModelShape>(
    post: &FeaturePosterior<'_, S, F>,
    out: &mut [u8],
) -> Result<usize> {
    let map = post.map();
    let dims = [map.input_dim(), post.n_inducing(), map.n_features(), map.n_params()];
    write_blob(map, ModelKind::Feature, dims, post.storage(), out)
}

/// Writes a closed-form-kernel posterior as a blob into `out`; returns the length written.
pub fn write_kernel<S: StoredScalar, K: Kernel + ModelShape>(
    post: &KernelPosterior<'_, S, K>,
    out: &mut [u8],
) -> Result<usize> {
    let k = post.kernel();
    let dims = [k.input_dim(), post.n_inducing(), 0, k.n_params()];
    write_blob(k, ModelKind::Kernel, dims, post.storage(), out)
}

/// [`write_feature`] into a new `Vec<u8>`.
#[cfg(feature = "alloc")]
pub fn feature_to_bytes<S: StoredScalar, F: FeatureMap + ModelShape>(
    post: &FeaturePosterior<'_, S, F>,
) -> Result<alloc::vec::Vec<u8>> {
    let mut out = alloc::vec![0u8; encoded_len::<S>(post.storage().len())];
    write_feature(post, &mut out)?;
    Ok(out)
}

/// [`write_kernel`] into a new `Vec<u8>`.
#[cfg(feature = "alloc")]
pub fn kernel_to_bytes<S: StoredScalar, K: Kernel + ModelShape>(
    post: &KernelPosterior<'_, S, K>,
) -> Result<alloc::vec::Vec<u8>> {
    let mut out = alloc::vec![0u8; encoded_len::<S>(post.storage().len())];
    write_kernel(post, &mut out)?;
    Ok(out)
}
