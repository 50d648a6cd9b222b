//! The binary model format, version 2: a fixed little-endian header, a block table, the
//! posterior's blocks (each in its own [`Encoding`]), a CRC-32.
//!
//! ```text
//! offset  size      field
//!      0     4      magic b"SVGP"
//!      4     2      version (u16) = 2
//!      6     1      reserved, 0
//!      7     1      kind: 1 = feature kernel, 2 = closed-form kernel
//!      8     4      family (u32): which feature map / kernel type (ModelShape::FAMILY)
//!     12     4      input dimension D
//!     16    64      16 shape words (u32), family-specific, unused ones 0
//!     80     4      M, inducing points
//!     84     4      J, features (0 for a closed-form kernel)
//!     88     4      P, feature-map / kernel parameters
//!     92     4      R, rows of the variance's sum of squares (feature kernel, ≤ M; else 0)
//!     96     2      likelihood id (u16, see Likelihood)
//!     98     2      likelihood parameters L (u16)
//!    100     4      B, blocks
//!    104  12·B      block table, one entry per block:
//!                     +0 encoding (u8: 1 f64, 2 f32, 3 f16, 4 bf16, 5 i16, 6 i8), +1 3 bytes 0,
//!                     +4 rows (u32), +8 columns (u32)
//!      …      …     the blocks, in table order, no padding: for i16/i8 the rows' f32 scales
//!                   first, then the values; all little-endian
//!    end     4      CRC-32 (IEEE) of every byte before it
//! ```
//!
//! The blocks, in order. Feature kernel: σ² (1 × 1), the likelihood's parameters (1 × L),
//! w (1 × J), λ (1 × R), the variance rows (R × J), then the map's parameter blocks (their
//! shapes are the map's, [`DeployMap::param_blocks`]; their sizes sum to P). Closed-form
//! kernel: the likelihood's parameters (1 × L), α (1 × M), Z (M × D), L_z and L (packed rows,
//! 1 × M(M+1)/2 each), the kernel's parameters (1 × P). See [`FeaturePosterior`] and
//! [`KernelPosterior`] for what they hold.
//!
//! Reading needs no allocator and no alignment: [`view_feature`] / [`view_kernel`] check the
//! whole blob and return a posterior that reads its blocks in place (from flash, on a
//! microcontroller); [`read_feature`] / [`read_kernel`] decode them into caller storage
//! instead. Every failure is an [`Error`] naming the byte offset where it was detected (the
//! header's offsets are the constants of [`offset`]); [`InvalidModel`](Error::InvalidModel)
//! carries a typed [`BlobError`] kind. Non-finite values give [`Error::NonFinite`] with the
//! value's index in the posterior's storage order.
//!
//! Version 1 blobs (one scalar type for the whole payload, a Gaussian likelihood implied, and
//! the variance as B_s and Q = LLᵀ − I) are not read: a v1 reader on the device would need the
//! old variance formula beside the new one, and the only v1 blobs are ones this crate wrote
//! from `f64` training parameters, which re-export to v2 in one call. They get
//! [`BlobError::UnsupportedVersion`].

use super::block::{Block, BlockSpec, Encoding, ParamBlocks, Role};
use super::closed::{kernel_specs, KernelPosterior, KERNEL_BLOCKS};
use super::crc32::crc32;
use super::feature::{FeaturePosterior, FeatureSpecs, MAX_FEATURE_BLOCKS, POSTERIOR_BLOCKS};
use super::likelihood::Likelihood;
use super::map::DeployMap;
use super::plan::{encode_block, Plan};
use super::shape::{ModelShape, StoredScalar, MAX_DIM, SHAPE_WORDS};
use crate::error::{check_buf, BlobError, Error, Result};
use crate::kernel::Kernel;

/// Byte offsets of the header's fields. The blob, format version 2:
///
/// ```text
/// offset  size      field
///      0     4      magic b"SVGP"
///      4     2      version (u16) = 2
///      6     1      reserved, 0
///      7     1      kind: 1 = feature kernel, 2 = closed-form kernel
///      8     4      family (u32): which feature map / kernel type (ModelShape::FAMILY)
///     12     4      input dimension D
///     16    64      16 shape words (u32), family-specific, unused ones 0
///     80     4      M, inducing points
///     84     4      J, features (0 for a closed-form kernel)
///     88     4      P, feature-map / kernel parameters
///     92     4      R, rows of the variance's sum of squares (feature kernel, ≤ M; else 0)
///     96     2      likelihood id (u16, see Likelihood)
///     98     2      likelihood parameters L (u16)
///    100     4      B, blocks
///    104  12·B      block table, one entry per block:
///                     +0 encoding (u8: 1 f64, 2 f32, 3 f16, 4 bf16, 5 i16, 6 i8), +1 3 bytes 0,
///                     +4 rows (u32), +8 columns (u32)
///      …      …     the blocks, in table order, no padding: for i16/i8 the rows' f32 scales
///                   first, then the values; all little-endian
///    end     4      CRC-32 (IEEE) of every byte before it
/// ```
pub mod offset {
    /// b"SVGP".
    pub const MAGIC: usize = 0;
    /// Format version (u16).
    pub const VERSION: usize = 4;
    /// Reserved byte, 0.
    pub const RESERVED: usize = 6;
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
    /// Variance rows R (u32).
    pub const RANK: usize = 92;
    /// Likelihood id (u16).
    pub const LIKELIHOOD: usize = 96;
    /// Likelihood parameter count (u16).
    pub const LIKELIHOOD_PARAMS: usize = 98;
    /// Number of blocks B (u32).
    pub const N_BLOCKS: usize = 100;
    /// The block table (12 bytes per block).
    pub const TABLE: usize = 104;
}

/// The 4 bytes every blob starts with.
pub const MAGIC: [u8; 4] = *b"SVGP";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 2;
/// Fixed header length in bytes (the block table's offset).
pub const HEADER_LEN: usize = 104;
/// Bytes per block table entry.
pub const ENTRY_LEN: usize = 12;
/// Trailer (CRC-32) length in bytes.
pub const TRAILER_LEN: usize = 4;
/// Most blocks a blob may have.
pub const MAX_BLOCKS: usize = MAX_FEATURE_BLOCKS;

/// Which posterior a blob holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// A feature kernel ([`FeaturePosterior`]).
    Feature = 1,
    /// A closed-form kernel ([`KernelPosterior`]).
    Kernel = 2,
}

/// A validated header: everything a caller needs to size buffers before reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
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
    /// Rows of the variance's sum of squares (0 for a closed-form kernel).
    pub rank: u32,
    /// The likelihood.
    pub likelihood: Likelihood,
    /// Blocks in the table.
    pub n_blocks: usize,
    /// Values in all blocks: the native storage length [`read_feature`] / [`read_kernel`] need.
    pub count: usize,
    /// Bytes of the whole blob.
    pub len: usize,
}

/// One block table entry, with where its bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockEntry {
    /// Its encoding.
    pub encoding: Encoding,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Byte offset of the table entry.
    pub at: usize,
    /// Byte offset of the block's bytes.
    pub data: usize,
    /// Length of the block's bytes.
    pub bytes: usize,
}

const fn invalid(kind: BlobError, at: usize) -> Error {
    Error::InvalidModel { kind, at }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Entry `i` of the table (which must lie inside `bytes`), its data at byte `data`.
fn parse_entry(bytes: &[u8], i: usize, data: usize) -> Result<BlockEntry> {
    let at = offset::TABLE + ENTRY_LEN * i;
    let encoding = Encoding::from_code(bytes[at]).ok_or(invalid(BlobError::UnsupportedEncoding, at))?;
    if bytes[at + 1..at + 4] != [0, 0, 0] {
        return Err(invalid(BlobError::UnsupportedEncoding, at + 1));
    }
    let (rows, cols) = (u32_at(bytes, at + 4) as usize, u32_at(bytes, at + 8) as usize);
    let n = encoding.block_bytes(rows, cols).ok_or(invalid(BlobError::ImpossibleShape, at + 4))?;
    Ok(BlockEntry { encoding, rows, cols, at, data, bytes: n })
}

/// The table's entries in order, for a blob [`read_header`] accepted.
///
/// ```
/// # #[cfg(feature = "alloc")] {
/// use svgp::deploy::{block_entries, kernel_to_bytes, read_header, Encoding, KernelModel, KernelPosterior, Plan};
/// use svgp::kernel::Rbf;
/// let model = KernelModel::from_flat(Rbf::new(1), 1, 0.0, &[0.0, 0.0, 0.0, 1.0, 0.1, -4.0])?;
/// let mut storage = [0.0_f64; 7];
/// let post = KernelPosterior::build(&model, &mut storage, &mut [0.0; 2])?;
/// let blob = kernel_to_bytes(&post, &Plan::uniform(Encoding::F32))?;
/// let h = read_header(&blob)?;
/// assert!(block_entries(&blob, &h).all(|e| e.encoding == Encoding::F32));
/// # }
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn block_entries<'b>(bytes: &'b [u8], h: &Header) -> impl Iterator<Item = BlockEntry> + 'b {
    let mut data = offset::TABLE + ENTRY_LEN * h.n_blocks;
    (0..h.n_blocks).map_while(move |i| {
        let e = parse_entry(bytes, i, data).ok()?;
        data += e.bytes;
        Some(e)
    })
}

/// The likelihood, its parameter count and the header's size fields, checked.
fn read_fields(bytes: &[u8]) -> Result<Header> {
    if bytes.len() < HEADER_LEN + TRAILER_LEN {
        return Err(invalid(BlobError::Truncated, bytes.len()));
    }
    if bytes[offset::MAGIC..offset::MAGIC + 4] != MAGIC {
        return Err(invalid(BlobError::WrongMagic, offset::MAGIC));
    }
    if u16_at(bytes, offset::VERSION) != VERSION {
        return Err(invalid(BlobError::UnsupportedVersion, offset::VERSION));
    }
    if bytes[offset::RESERVED] != 0 {
        return Err(invalid(BlobError::ImpossibleShape, offset::RESERVED));
    }
    let kind = match bytes[offset::KIND] {
        1 => ModelKind::Feature,
        2 => ModelKind::Kernel,
        _ => return Err(invalid(BlobError::WrongKind, offset::KIND)),
    };
    let likelihood = Likelihood::from_id(u16_at(bytes, offset::LIKELIHOOD))
        .ok_or(invalid(BlobError::UnsupportedLikelihood, offset::LIKELIHOOD))?;
    let mut shape = [0u32; SHAPE_WORDS];
    for (i, w) in shape.iter_mut().enumerate() {
        *w = u32_at(bytes, offset::SHAPE + 4 * i);
    }
    let field = |at| u32_at(bytes, at);
    let (d, m, j, p, r) = (
        field(offset::INPUT_DIM),
        field(offset::N_INDUCING),
        field(offset::N_FEATURES),
        field(offset::N_PARAMS),
        field(offset::RANK),
    );
    let in_range = |v: u32| (1..=MAX_DIM).contains(&v);
    let feature = kind == ModelKind::Feature;
    let checks = [
        (offset::INPUT_DIM, in_range(d)),
        (offset::N_INDUCING, in_range(m)),
        (offset::N_FEATURES, if feature { in_range(j) } else { j == 0 }),
        (offset::N_PARAMS, p <= MAX_DIM.saturating_mul(16)),
        (offset::RANK, if feature { r <= m } else { r == 0 }),
        (
            offset::LIKELIHOOD_PARAMS,
            usize::from(u16_at(bytes, offset::LIKELIHOOD_PARAMS)) == likelihood.n_params(),
        ),
    ];
    if let Some(&(at, _)) = checks.iter().find(|(_, ok)| !ok) {
        return Err(invalid(BlobError::ImpossibleShape, at));
    }
    let n_blocks = field(offset::N_BLOCKS) as usize;
    let blocks_ok = match kind {
        ModelKind::Feature => (POSTERIOR_BLOCKS + 1..=MAX_BLOCKS).contains(&n_blocks),
        ModelKind::Kernel => n_blocks == KERNEL_BLOCKS,
    };
    if !blocks_ok {
        return Err(invalid(BlobError::BlockMismatch, offset::N_BLOCKS));
    }
    Ok(Header {
        kind,
        family: field(offset::FAMILY),
        input_dim: d,
        shape,
        n_inducing: m,
        n_features: j,
        n_params: p,
        rank: r,
        likelihood,
        n_blocks,
        count: 0,
        len: bytes.len(),
    })
}

/// The shapes every blob of this kind has in its first blocks (the rest: the map's blocks,
/// whose sizes must sum to P).
fn fixed_shapes(h: &Header) -> ([(usize, usize); KERNEL_BLOCKS], usize) {
    let (d, m, j, p, r) = (
        h.input_dim as usize,
        h.n_inducing as usize,
        h.n_features as usize,
        h.n_params as usize,
        h.rank as usize,
    );
    let l = h.likelihood.n_params();
    match h.kind {
        ModelKind::Feature => ([(1, 1), (1, l), (1, j), (1, r), (r, j), (0, 0)], POSTERIOR_BLOCKS),
        ModelKind::Kernel => {
            // m ≤ 2²⁰ fits a u64 product; on a 32-bit target an impossible size matches nothing.
            let tri = m.checked_mul(m + 1).map_or(usize::MAX, |v| v / 2);
            ([(1, l), (1, m), (m, d), (1, tri), (1, tri), (1, p)], KERNEL_BLOCKS)
        }
    }
}

/// Parses and validates the header, the block table, the length and the checksum of `bytes`
/// (the whole blob): everything that does not depend on the family's own shape rules.
///
/// ```
/// use svgp::deploy::{read_header, BlobError, Error};
/// let err = read_header(b"SVGQ").unwrap_err();
/// assert_eq!(err, Error::InvalidModel { kind: BlobError::Truncated, at: 4 });
/// ```
pub fn read_header(bytes: &[u8]) -> Result<Header> {
    let mut h = read_fields(bytes)?;
    let table_end = offset::TABLE + ENTRY_LEN * h.n_blocks;
    if bytes.len() < table_end + TRAILER_LEN {
        return Err(invalid(BlobError::Truncated, bytes.len()));
    }
    let (shapes, fixed) = fixed_shapes(&h);
    let (mut data, mut count, mut map_values) = (table_end, 0usize, 0usize);
    for i in 0..h.n_blocks {
        let e = parse_entry(bytes, i, data)?;
        let values = e.rows.checked_mul(e.cols).ok_or(invalid(BlobError::ImpossibleShape, e.at + 4))?;
        if i < fixed {
            if (e.rows, e.cols) != shapes[i] {
                return Err(invalid(BlobError::BlockMismatch, e.at));
            }
        } else {
            map_values =
                map_values.checked_add(values).ok_or(invalid(BlobError::ImpossibleShape, e.at + 4))?;
        }
        count = count.checked_add(values).ok_or(invalid(BlobError::ImpossibleShape, e.at + 4))?;
        data = data.checked_add(e.bytes).ok_or(invalid(BlobError::ImpossibleShape, e.at + 4))?;
    }
    if h.kind == ModelKind::Feature && map_values != h.n_params as usize {
        return Err(invalid(BlobError::BlockMismatch, offset::N_PARAMS));
    }
    let total = data.checked_add(TRAILER_LEN).ok_or(invalid(BlobError::ImpossibleShape, offset::N_BLOCKS))?;
    if bytes.len() < total {
        return Err(invalid(BlobError::Truncated, bytes.len()));
    }
    if bytes.len() > total {
        return Err(invalid(BlobError::TrailingBytes, total));
    }
    if crc32(&bytes[..data]) != u32_at(bytes, data) {
        return Err(invalid(BlobError::ChecksumMismatch, data));
    }
    h.count = count;
    Ok(h)
}

/// Checks the header against the kind and family asked for; decodes the shape.
fn check_types<T: ModelShape>(h: &Header, kind: ModelKind) -> Result<T> {
    if h.kind != kind {
        return Err(invalid(BlobError::WrongKind, offset::KIND));
    }
    if h.family != T::FAMILY {
        return Err(invalid(BlobError::WrongFamily, offset::FAMILY));
    }
    T::decode_shape(&h.shape)
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

/// The blocks of a validated blob over its bytes, checked against the shapes the model needs
/// (`specs`), the evaluation type `S` and finiteness.
fn blocks_in_place<'a, S: StoredScalar>(
    bytes: &'a [u8],
    h: &Header,
    specs: &[BlockSpec],
    out: &mut [Block<'a, S>; MAX_BLOCKS],
) -> Result<()> {
    if specs.len() != h.n_blocks {
        return Err(invalid(BlobError::BlockMismatch, offset::N_BLOCKS));
    }
    let mut base = 0;
    for ((e, spec), o) in block_entries(bytes, h).zip(specs).zip(out.iter_mut()) {
        if (e.rows, e.cols) != (spec.rows, spec.cols) {
            return Err(invalid(BlobError::BlockMismatch, e.at));
        }
        if !e.encoding.fits::<S>() {
            return Err(invalid(BlobError::WrongScalar, e.at));
        }
        *o = Block::from_bytes(e.encoding, e.rows, e.cols, &bytes[e.data..e.data + e.bytes])?;
        o.check_finite("model storage", base)?;
        base += e.rows * e.cols;
    }
    Ok(())
}

/// Checks a whole feature-kernel blob and returns a posterior that reads its blocks in place,
/// from `bytes` (no copy, no allocation, any alignment: an `include_bytes!` in flash).
///
/// ```
/// use svgp::deploy::{view_feature, BlobError, Error};
/// use svgp::features::DeepRff;
/// let err = view_feature::<f32, DeepRff>(&[0u8; 10]).unwrap_err();
/// assert_eq!(err, Error::InvalidModel { kind: BlobError::Truncated, at: 10 });
/// ```
pub fn view_feature<S: StoredScalar, F: DeployMap>(bytes: &[u8]) -> Result<FeaturePosterior<'_, S, F>> {
    let h = read_header(bytes)?;
    let map = check_types::<F>(&h, ModelKind::Feature)?;
    check_counts(&h, map.input_dim(), map.n_features(), map.n_params())?;
    let specs = FeatureSpecs::of(&map, h.rank as usize, h.likelihood);
    let mut blocks = [Block::default(); MAX_BLOCKS];
    blocks_in_place(bytes, &h, specs.list(), &mut blocks)?;
    let [a, b, c, d, e] = [blocks[0], blocks[1], blocks[2], blocks[3], blocks[4]];
    let params = ParamBlocks::from_blocks(&blocks[POSTERIOR_BLOCKS..h.n_blocks])?;
    FeaturePosterior::from_blocks(map, h.n_inducing as usize, h.likelihood, [a, b, c, d, e], params)
}

/// Reads a feature-kernel posterior from a blob, decoding every block into caller storage
/// (at least [`Header::count`] long): more RAM than [`view_feature`], the fastest prediction.
///
/// ```
/// use svgp::deploy::{read_feature, BlobError, Error};
/// use svgp::features::DeepRff;
/// let mut storage = [0.0_f32; 64];
/// let err = read_feature::<f32, DeepRff>(&[0u8; 10], &mut storage).unwrap_err();
/// assert_eq!(err, Error::InvalidModel { kind: BlobError::Truncated, at: 10 });
/// ```
pub fn read_feature<'s, S: StoredScalar, F: DeployMap>(
    bytes: &[u8],
    storage: &'s mut [S],
) -> Result<FeaturePosterior<'s, S, F>> {
    let post = view_feature::<S, F>(bytes)?;
    check_buf("model storage", read_header(bytes)?.count, storage.len())?;
    post.decode_into(storage)
}

/// [`view_feature`] for a closed-form-kernel posterior.
pub fn view_kernel<S: StoredScalar, K: Kernel + ModelShape>(
    bytes: &[u8],
) -> Result<KernelPosterior<'_, S, K>> {
    let h = read_header(bytes)?;
    let kernel = check_types::<K>(&h, ModelKind::Kernel)?;
    check_counts(&h, kernel.input_dim(), 0, kernel.n_params())?;
    let m = h.n_inducing as usize;
    let specs = kernel_specs(&kernel, m, h.likelihood)
        .ok_or(invalid(BlobError::ImpossibleShape, offset::N_INDUCING))?;
    let mut blocks = [Block::default(); MAX_BLOCKS];
    blocks_in_place(bytes, &h, &specs, &mut blocks)?;
    let own = [blocks[0], blocks[1], blocks[2], blocks[3], blocks[4], blocks[5]];
    KernelPosterior::from_blocks(kernel, m, h.likelihood, own)
}

/// [`read_feature`] for a closed-form-kernel posterior.
pub fn read_kernel<'s, S: StoredScalar, K: Kernel + ModelShape>(
    bytes: &[u8],
    storage: &'s mut [S],
) -> Result<KernelPosterior<'s, S, K>> {
    let post = view_kernel::<S, K>(bytes)?;
    check_buf("model storage", read_header(bytes)?.count, storage.len())?;
    post.decode_into(storage)
}

/// What a writer needs to know about one posterior: its header fields and its blocks.
struct Contents<'p, 'a, S> {
    kind: ModelKind,
    family: u32,
    shape: [u32; SHAPE_WORDS],
    dims: [usize; 5], // D, M, J, P, R
    likelihood: Likelihood,
    blocks: &'p [(Block<'a, S>, BlockSpec)],
}

/// The rows of a feature posterior to keep under `plan` (see [`Plan::rank_tolerance`]).
fn kept_rank<S: StoredScalar, F: DeployMap>(post: &FeaturePosterior<'_, S, F>, plan: &Plan) -> usize {
    let mut blocks = [(Block::default(), BlockSpec::row(Role::Scalar, 0)); MAX_FEATURE_BLOCKS];
    post.blocks(&mut blocks);
    let lambda = blocks[3].0;
    let budget = plan.rank_tolerance * post.kernel_variance().re();
    let mut dropped = 0.0;
    let mut r = post.rank();
    while r > 0 {
        let next = dropped + lambda.get(r - 1).re().abs();
        if next > budget {
            break;
        }
        (dropped, r) = (next, r - 1);
    }
    r
}

fn feature_contents<'p, 'a, S: StoredScalar, F: DeployMap>(
    post: &FeaturePosterior<'a, S, F>,
    plan: &Plan,
    buf: &'p mut [(Block<'a, S>, BlockSpec); MAX_FEATURE_BLOCKS],
) -> Result<Contents<'p, 'a, S>> {
    let map = post.map();
    let n = post.blocks(buf);
    let r = kept_rank(post, plan);
    // Keep the first r variance rows.
    buf[3].1.cols = r;
    buf[4].1.rows = r;
    let mut shape = [0u32; SHAPE_WORDS];
    map.encode_shape(&mut shape)?;
    Ok(Contents {
        kind: ModelKind::Feature,
        family: F::FAMILY,
        shape,
        dims: [map.input_dim(), post.n_inducing(), map.n_features(), map.n_params(), r],
        likelihood: post.likelihood(),
        blocks: &buf[..n],
    })
}

fn kernel_contents<'p, 'a, S: StoredScalar, K: Kernel + ModelShape>(
    post: &KernelPosterior<'a, S, K>,
    buf: &'p mut [(Block<'a, S>, BlockSpec); MAX_FEATURE_BLOCKS],
) -> Result<Contents<'p, 'a, S>> {
    let k = post.kernel();
    let (blocks, specs) = post.blocks();
    for (o, (b, s)) in buf.iter_mut().zip(blocks.into_iter().zip(specs)) {
        *o = (b, s);
    }
    let mut shape = [0u32; SHAPE_WORDS];
    k.encode_shape(&mut shape)?;
    Ok(Contents {
        kind: ModelKind::Kernel,
        family: K::FAMILY,
        shape,
        dims: [k.input_dim(), post.n_inducing(), 0, k.n_params(), 0],
        likelihood: post.likelihood(),
        blocks: &buf[..KERNEL_BLOCKS],
    })
}

/// Blob length of `c` under `plan`.
fn blob_len<S>(c: &Contents<'_, '_, S>, plan: &Plan) -> Result<usize> {
    let overflow = Error::SizeOverflow { what: "model blob" };
    let mut n = (offset::TABLE + TRAILER_LEN).checked_add(ENTRY_LEN * c.blocks.len()).ok_or(overflow)?;
    for (_, s) in c.blocks {
        n = plan
            .encoding(s.role)
            .block_bytes(s.rows, s.cols)
            .and_then(|b| n.checked_add(b))
            .ok_or(overflow)?;
    }
    Ok(n)
}

fn put_u32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn word(v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::InvalidParameter { what: "model size", value: v as f64 })
}

/// Writes header, table, blocks and checksum into `out`; returns the bytes written.
fn write_blob<S: StoredScalar>(c: &Contents<'_, '_, S>, plan: &Plan, out: &mut [u8]) -> Result<usize> {
    let len = blob_len(c, plan)?;
    check_buf("blob output", len, out.len())?;
    let out = &mut out[..len];
    out.iter_mut().for_each(|b| *b = 0);
    out[offset::MAGIC..offset::MAGIC + 4].copy_from_slice(&MAGIC);
    out[offset::VERSION..offset::VERSION + 2].copy_from_slice(&VERSION.to_le_bytes());
    out[offset::KIND] = c.kind as u8;
    put_u32(out, offset::FAMILY, c.family);
    for (i, &w) in c.shape.iter().enumerate() {
        put_u32(out, offset::SHAPE + 4 * i, w);
    }
    let [d, m, j, p, r] = c.dims;
    for (at, v) in [
        (offset::INPUT_DIM, d),
        (offset::N_INDUCING, m),
        (offset::N_FEATURES, j),
        (offset::N_PARAMS, p),
        (offset::RANK, r),
        (offset::N_BLOCKS, c.blocks.len()),
    ] {
        put_u32(out, at, word(v)?);
    }
    out[offset::LIKELIHOOD..offset::LIKELIHOOD + 2].copy_from_slice(&c.likelihood.id().to_le_bytes());
    let n_lik = u16::try_from(c.likelihood.n_params()).unwrap_or(u16::MAX);
    out[offset::LIKELIHOOD_PARAMS..offset::LIKELIHOOD_PARAMS + 2].copy_from_slice(&n_lik.to_le_bytes());
    let mut data = offset::TABLE + ENTRY_LEN * c.blocks.len();
    for (i, (block, spec)) in c.blocks.iter().enumerate() {
        let at = offset::TABLE + ENTRY_LEN * i;
        let encoding = plan.encoding(spec.role);
        out[at] = encoding.code();
        put_u32(out, at + 4, word(spec.rows)?);
        put_u32(out, at + 8, word(spec.cols)?);
        let n =
            encoding.block_bytes(spec.rows, spec.cols).ok_or(Error::SizeOverflow { what: "model blob" })?;
        encode_block(encoding, spec.rows, spec.cols, &|k| block.get(k).re(), &mut out[data..data + n])?;
        data += n;
    }
    let crc = crc32(&out[..data]);
    put_u32(out, data, crc);
    Ok(len)
}

/// Length of the blob [`write_feature`] writes for `post` under `plan`.
pub fn feature_blob_len<S: StoredScalar, F: DeployMap>(
    post: &FeaturePosterior<'_, S, F>,
    plan: &Plan,
) -> Result<usize> {
    let mut buf = [(Block::default(), BlockSpec::row(Role::Scalar, 0)); MAX_FEATURE_BLOCKS];
    blob_len(&feature_contents(post, plan, &mut buf)?, plan)
}

/// Writes a feature-kernel posterior as a blob into `out` (at least [`feature_blob_len`]
/// bytes), each block in the encoding `plan` gives its role; returns the length written.
/// A value the encoding cannot hold is an [`Error::InvalidParameter`].
pub fn write_feature<S: StoredScalar, F: DeployMap>(
    post: &FeaturePosterior<'_, S, F>,
    plan: &Plan,
    out: &mut [u8],
) -> Result<usize> {
    let mut buf = [(Block::default(), BlockSpec::row(Role::Scalar, 0)); MAX_FEATURE_BLOCKS];
    write_blob(&feature_contents(post, plan, &mut buf)?, plan, out)
}

/// Length of the blob [`write_kernel`] writes for `post` under `plan`.
pub fn kernel_blob_len<S: StoredScalar, K: Kernel + ModelShape>(
    post: &KernelPosterior<'_, S, K>,
    plan: &Plan,
) -> Result<usize> {
    let mut buf = [(Block::default(), BlockSpec::row(Role::Scalar, 0)); MAX_FEATURE_BLOCKS];
    blob_len(&kernel_contents(post, &mut buf)?, plan)
}

/// Writes a closed-form-kernel posterior as a blob into `out`; returns the length written.
pub fn write_kernel<S: StoredScalar, K: Kernel + ModelShape>(
    post: &KernelPosterior<'_, S, K>,
    plan: &Plan,
    out: &mut [u8],
) -> Result<usize> {
    let mut buf = [(Block::default(), BlockSpec::row(Role::Scalar, 0)); MAX_FEATURE_BLOCKS];
    write_blob(&kernel_contents(post, &mut buf)?, plan, out)
}

/// [`write_feature`] into a new `Vec<u8>`.
#[cfg(feature = "alloc")]
pub fn feature_to_bytes<S: StoredScalar, F: DeployMap>(
    post: &FeaturePosterior<'_, S, F>,
    plan: &Plan,
) -> Result<alloc::vec::Vec<u8>> {
    let mut out = alloc::vec![0u8; feature_blob_len(post, plan)?];
    write_feature(post, plan, &mut out)?;
    Ok(out)
}

/// [`write_kernel`] into a new `Vec<u8>`.
#[cfg(feature = "alloc")]
pub fn kernel_to_bytes<S: StoredScalar, K: Kernel + ModelShape>(
    post: &KernelPosterior<'_, S, K>,
    plan: &Plan,
) -> Result<alloc::vec::Vec<u8>> {
    let mut out = alloc::vec![0u8; kernel_blob_len(post, plan)?];
    write_kernel(post, plan, &mut out)?;
    Ok(out)
}
