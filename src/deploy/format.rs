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
//! Every failure is an [`Error`] naming the byte offset where it was detected (the header's
//! offsets are the constants of [`offset`]); [`InvalidModel`](Error::InvalidModel) carries a
//! typed [`BlobError`] kind, so callers can tell the failures apart by matching. Non-finite
//! payload values give [`Error::NonFinite`]; a shape the reader cannot evaluate gives
//! `InvalidModel` at the offending header word.

use super::closed::{kernel_storage, KernelPosterior};
use super::crc32::crc32;
use super::feature::{feature_storage, FeaturePosterior};
use super::shape::{ModelShape, StoredScalar, MAX_DIM, SHAPE_WORDS};
use crate::error::{check_buf, check_len, BlobError, Error, Result};
use crate::features::FeatureMap;
use crate::kernel::Kernel;

/// Byte offsets of the header's fields. The header, little-endian, 104 bytes:
///
/// ```text
/// offset  size      field
///      0     4      magic b"SVGP"
///      4     2      version (u16) = 1
///      6     1      scalar type: 4 = f32, 8 = f64
///      7     1      kind: 1 = feature kernel, 2 = closed-form kernel
///      8     4      family (u32): which feature map / kernel type (ModelShape::FAMILY)
///     12     4      input dimension D
///     16    64      16 shape words (u32), family-specific, unused ones 0
///     80     4      M, inducing points
///     84     4      J, features (0 for a closed-form kernel)
///     88     4      P, feature-map / kernel parameters
///     92     4      count: scalars in the payload (the posterior's storage length)
///     96     8      reserved, 0
///    104  count·s   payload: the posterior's storage, little-endian (s = scalar size)
///    end     4      CRC-32 (IEEE) of every byte before it
/// ```
pub mod offset {
    /// b"SVGP".
    pub const MAGIC: usize = 0;
    /// Format version (u16).
    pub const VERSION: usize = 4;
    /// Scalar type: 4 = f32, 8 = f64.
    pub const SCALAR: usize = 6;
    /// Kind: 1 = feature kernel, 2 = closed-form kernel.
    pub const KIND: usize = 7;
    /// Family (u32).
    pub const FAMILY: usize = 8;
    /// Input dimension D (u32).
    pub const INPUT_DIM: usize = 12;
    /// The family-specific shape words (u32 each).
    pub const SHAPE: usize = 16;
    /// Inducing points M (u32).
    pub const N_INDUCING: usize = 80;
    /// Features J (u32, 0 for a closed-form kernel).
    pub const N_FEATURES: usize = 84;
    /// Map / kernel parameters P (u32).
    pub const N_PARAMS: usize = 88;
    /// Scalars in the payload (u32).
    pub const COUNT: usize = 92;
    /// Reserved, 8 zero bytes.
    pub const RESERVED: usize = 96;
}

/// The 4 bytes every blob starts with.
pub const MAGIC: [u8; 4] = *b"SVGP";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Header length in bytes (the payload's offset).
pub const HEADER_LEN: usize = 104;
/// Trailer (CRC-32) length in bytes.
pub const TRAILER_LEN: usize = 4;

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

const fn invalid(kind: BlobError, at: usize) -> Error {
    Error::InvalidModel { kind, at }
}

const fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

const fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The payload length a header's sizes imply, `None` on overflow: the posteriors' own storage
/// declarations, so the reader and the posteriors cannot disagree.
fn implied_count(kind: ModelKind, d: usize, m: usize, j: usize, p: usize) -> Option<usize> {
    match kind {
        ModelKind::Feature => feature_storage(m, j, p).ok().map(|l| l.total()),
        ModelKind::Kernel => kernel_storage(m, d, p).ok().map(|l| l.total()),
    }
}

/// Parses and validates the header, the length and the checksum of `bytes` (the whole blob).
///
/// ```
/// use svgp::deploy::{read_header, BlobError, Error};
/// let err = read_header(b"SVGQ").unwrap_err();
/// assert_eq!(err, Error::InvalidModel { kind: BlobError::Truncated, at: 4 });
/// ```
pub fn read_header(bytes: &[u8]) -> Result<Header> {
    if bytes.len() < HEADER_LEN + TRAILER_LEN {
        return Err(invalid(BlobError::Truncated, bytes.len()));
    }
    let h = read_header_fields(bytes)?;
    let total = encoded_len_checked(h.count, h.scalar_size as usize)
        .ok_or(invalid(BlobError::ImpossibleShape, offset::COUNT))?;
    if bytes.len() < total {
        return Err(invalid(BlobError::Truncated, bytes.len()));
    }
    if bytes.len() > total {
        return Err(invalid(BlobError::TrailingBytes, total));
    }
    let body = total - TRAILER_LEN;
    if crc32(&bytes[..body]) != u32_at(bytes, body) {
        return Err(invalid(BlobError::ChecksumMismatch, body));
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
        return Err(invalid(BlobError::Truncated, bytes.len()));
    }
    if bytes[offset::MAGIC..offset::MAGIC + 4] != MAGIC {
        return Err(invalid(BlobError::WrongMagic, offset::MAGIC));
    }
    if u16_at(bytes, offset::VERSION) != VERSION {
        return Err(invalid(BlobError::UnsupportedVersion, offset::VERSION));
    }
    let scalar_size = bytes[offset::SCALAR];
    if scalar_size != 4 && scalar_size != 8 {
        return Err(invalid(BlobError::WrongScalar, offset::SCALAR));
    }
    let kind = match bytes[offset::KIND] {
        1 => ModelKind::Feature,
        2 => ModelKind::Kernel,
        _ => return Err(invalid(BlobError::WrongKind, offset::KIND)),
    };
    let family = u32_at(bytes, offset::FAMILY);
    let mut shape = [0u32; SHAPE_WORDS];
    for (i, w) in shape.iter_mut().enumerate() {
        *w = u32_at(bytes, offset::SHAPE + 4 * i);
    }
    let d = u32_at(bytes, offset::INPUT_DIM);
    let (m, j, p) = (
        u32_at(bytes, offset::N_INDUCING),
        u32_at(bytes, offset::N_FEATURES),
        u32_at(bytes, offset::N_PARAMS),
    );
    let in_range = |v: u32| (1..=MAX_DIM).contains(&v);
    let reserved = u32_at(bytes, offset::RESERVED) == 0 && u32_at(bytes, offset::RESERVED + 4) == 0;
    let checks = [
        (offset::INPUT_DIM, in_range(d)),
        (offset::N_INDUCING, in_range(m)),
        (offset::N_FEATURES, if kind == ModelKind::Feature { in_range(j) } else { j == 0 }),
        (offset::N_PARAMS, p <= MAX_DIM.saturating_mul(16)),
        (offset::RESERVED, reserved),
    ];
    if let Some(&(at, _)) = checks.iter().find(|(_, ok)| !ok) {
        return Err(invalid(BlobError::ImpossibleShape, at));
    }
    let count = u32_at(bytes, offset::COUNT) as usize;
    let implied = implied_count(kind, d as usize, m as usize, j as usize, p as usize);
    if implied != Some(count) || encoded_len_checked(count, scalar_size as usize).is_none() {
        return Err(invalid(BlobError::ImpossibleShape, offset::COUNT));
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
/// use svgp::deploy::{payload_f32, BlobError, Error};
/// const BAD: Result<[f32; 2], Error> = payload_f32::<2>(b"SVGP");
/// assert_eq!(BAD, Err(Error::InvalidModel { kind: BlobError::Truncated, at: 4 }));
/// ```
pub const fn payload_f32<const N: usize>(blob: &[u8]) -> Result<[f32; N]> {
    if blob.len() < HEADER_LEN + TRAILER_LEN {
        return Err(invalid(BlobError::Truncated, blob.len()));
    }
    let at = offset::MAGIC;
    if blob[at] != MAGIC[0]
        || blob[at + 1] != MAGIC[1]
        || blob[at + 2] != MAGIC[2]
        || blob[at + 3] != MAGIC[3]
    {
        return Err(invalid(BlobError::WrongMagic, at));
    }
    if u16_at(blob, offset::VERSION) != VERSION {
        return Err(invalid(BlobError::UnsupportedVersion, offset::VERSION));
    }
    if blob[offset::SCALAR] != 4 {
        return Err(invalid(BlobError::WrongScalar, offset::SCALAR));
    }
    if u32_at(blob, offset::COUNT) as usize != N {
        return Err(invalid(BlobError::ImpossibleShape, offset::COUNT));
    }
    let total = match encoded_len_checked(N, 4) {
        Some(t) => t,
        None => return Err(invalid(BlobError::ImpossibleShape, offset::COUNT)),
    };
    if blob.len() < total {
        return Err(invalid(BlobError::Truncated, blob.len()));
    }
    if blob.len() > total {
        return Err(invalid(BlobError::TrailingBytes, total));
    }
    let body = total - TRAILER_LEN;
    let (covered, _) = blob.split_at(body);
    if crc32(covered) != u32_at(blob, body) {
        return Err(invalid(BlobError::ChecksumMismatch, body));
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
        return Err(invalid(BlobError::WrongScalar, offset::SCALAR));
    }
    if h.kind != kind {
        return Err(invalid(BlobError::WrongKind, offset::KIND));
    }
    if h.family != T::FAMILY {
        return Err(invalid(BlobError::WrongFamily, offset::FAMILY));
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
    let checks = [
        (offset::INPUT_DIM, h.input_dim as usize == d),
        (offset::N_FEATURES, h.n_features as usize == j),
        (offset::N_PARAMS, h.n_params as usize == p),
    ];
    match checks.iter().find(|(_, ok)| !ok) {
        Some(&(at, _)) => Err(invalid(BlobError::ImpossibleShape, at)),
        None => Ok(()),
    }
}

/// Reads a feature-kernel posterior from a blob into caller storage (at least
/// [`Header::count`] long; no allocation, no alignment requirement).
///
/// ```
/// use svgp::deploy::{read_feature, BlobError, Error};
/// use svgp::features::DeepRff;
/// let mut storage = [0.0_f32; 64];
/// let err = read_feature::<f32, DeepRff>(&[0u8; 10], &mut storage).unwrap_err();
/// assert_eq!(err, Error::InvalidModel { kind: BlobError::Truncated, at: 10 });
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

/// Blob length for a payload of `count` scalars of type `S` ([`Error::SizeOverflow`] if it
/// does not fit in `usize`).
pub fn encoded_len<S: StoredScalar>(count: usize) -> Result<usize> {
    encoded_len_checked(count, S::SIZE).ok_or(Error::SizeOverflow { what: "model blob" })
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
    let len = encoded_len::<S>(values.len())?;
    check_buf("blob output", len, out.len())?;
    let mut words = [0u32; SHAPE_WORDS];
    shape.encode_shape(&mut words)?;
    let out = &mut out[..len];
    out[..HEADER_LEN].iter_mut().for_each(|b| *b = 0);
    out[offset::MAGIC..offset::MAGIC + 4].copy_from_slice(&MAGIC);
    out[offset::VERSION..offset::VERSION + 2].copy_from_slice(&VERSION.to_le_bytes());
    out[offset::SCALAR] = S::CODE;
    out[offset::KIND] = kind as u8;
    put_u32(out, offset::FAMILY, T::FAMILY);
    for (i, &w) in words.iter().enumerate() {
        put_u32(out, offset::SHAPE + 4 * i, w);
    }
    let [d, m, j, p] = dims;
    let word = |v: usize| {
        u32::try_from(v).map_err(|_| Error::InvalidParameter { what: "model size", value: v as f64 })
    };
    put_u32(out, offset::INPUT_DIM, word(d)?);
    put_u32(out, offset::N_INDUCING, word(m)?);
    put_u32(out, offset::N_FEATURES, word(j)?);
    put_u32(out, offset::N_PARAMS, word(p)?);
    put_u32(out, offset::COUNT, word(values.len())?);
    for (chunk, &v) in out[HEADER_LEN..len - TRAILER_LEN].chunks_exact_mut(S::SIZE).zip(values) {
        v.write_le(chunk);
    }
    let crc = crc32(&out[..len - TRAILER_LEN]);
    put_u32(out, len - TRAILER_LEN, crc);
    Ok(len)
}

/// Writes a feature-kernel posterior as a blob into `out` (at least
/// [`encoded_len`]`(post.storage().len())?` bytes); returns the length written.
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
    let mut out = alloc::vec![0u8; encoded_len::<S>(post.storage().len())?];
    write_feature(post, &mut out)?;
    Ok(out)
}

/// [`write_kernel`] into a new `Vec<u8>`.
#[cfg(feature = "alloc")]
pub fn kernel_to_bytes<S: StoredScalar, K: Kernel + ModelShape>(
    post: &KernelPosterior<'_, S, K>,
) -> Result<alloc::vec::Vec<u8>> {
    let mut out = alloc::vec![0u8; encoded_len::<S>(post.storage().len())?];
    write_kernel(post, &mut out)?;
    Ok(out)
}
