//! Blocks of stored values: how a blob encodes each part of a posterior, and the arithmetic a
//! posterior runs on them in place, without decoding them into RAM.
//!
//! A posterior's storage is a sequence of blocks (rows × cols values each: the mean weights,
//! the variance rows, each layer's weights, ...). A [`Block`] is either *native* (a slice of
//! the evaluation type, what [`FeaturePosterior::build`](super::FeaturePosterior::build)
//! writes) or *encoded* (borrowed bytes of a blob, in one of the six [`Encoding`]s). The
//! posteriors only ever call the block's own operations — [`Block::get`], [`Block::dot`],
//! [`Block::row_dot`], [`Block::vec_mat`] — so the same prediction code serves an `f64`
//! posterior on a desktop and a 16-bit one read in place from a microcontroller's flash.
//!
//! The integer encodings keep one `f32` scale per row (v = q·scale). Their dot products run in
//! integer arithmetic: the other operand is put in fixed point once ([`Operand`], |q| ≤ 2²⁶),
//! each product is exact and the sum is an exact `i64`, converted once per row. On a
//! Cortex-M4 that is three instructions per multiply-add (two loads and `smlal`), the same as
//! `f32` from aligned memory and fewer than decoding each value to `f32` (five); on a
//! Cortex-M0 it replaces a software floating-point multiply and add by integer arithmetic.

use super::shape::StoredScalar;
use crate::error::{check_buf, check_len, Error, Result};

/// How a block stores its values in a blob (the block table's encoding byte).
///
/// | encoding | code | bytes per value | exact for |
/// |---|---|---|---|
/// | `F64`  | 1 | 8 | everything an `f64` model holds |
/// | `F32`  | 2 | 4 | 24-bit significands |
/// | `F16`  | 3 | 2 | IEEE half: 11-bit significand, \|v\| ≤ 65504 |
/// | `Bf16` | 4 | 2 | bfloat16: 8-bit significand, `f32`'s range |
/// | `I16`  | 5 | 2 + 4 per row | v = q·s, \|q\| ≤ 32767, one `f32` scale s per row |
/// | `I8`   | 6 | 1 + 4 per row | v = q·s, \|q\| ≤ 127, one `f32` scale s per row |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// IEEE double, little-endian.
    F64,
    /// IEEE single, little-endian.
    F32,
    /// IEEE half, little-endian.
    F16,
    /// bfloat16 (the top half of an `f32`), little-endian.
    Bf16,
    /// 16-bit integers with one `f32` scale per row.
    I16,
    /// 8-bit integers with one `f32` scale per row.
    I8,
}

impl Encoding {
    /// Every encoding, widest first.
    pub const ALL: [Encoding; 6] =
        [Encoding::F64, Encoding::F32, Encoding::F16, Encoding::Bf16, Encoding::I16, Encoding::I8];

    /// The block table's code.
    pub const fn code(self) -> u8 {
        match self {
            Encoding::F64 => 1,
            Encoding::F32 => 2,
            Encoding::F16 => 3,
            Encoding::Bf16 => 4,
            Encoding::I16 => 5,
            Encoding::I8 => 6,
        }
    }

    /// The encoding with table code `code`.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Encoding::F64),
            2 => Some(Encoding::F32),
            3 => Some(Encoding::F16),
            4 => Some(Encoding::Bf16),
            5 => Some(Encoding::I16),
            6 => Some(Encoding::I8),
            _ => None,
        }
    }

    /// Bytes per value (without the row scales).
    pub const fn value_bytes(self) -> usize {
        match self {
            Encoding::F64 => 8,
            Encoding::F32 => 4,
            Encoding::F16 | Encoding::Bf16 | Encoding::I16 => 2,
            Encoding::I8 => 1,
        }
    }

    /// Whether values are integers with a per-row scale.
    pub const fn is_integer(self) -> bool {
        matches!(self, Encoding::I16 | Encoding::I8)
    }

    /// A short name (`"f32"`, `"i16"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::F64 => "f64",
            Encoding::F32 => "f32",
            Encoding::F16 => "f16",
            Encoding::Bf16 => "bf16",
            Encoding::I16 => "i16",
            Encoding::I8 => "i8",
        }
    }

    /// The encoding named `name` (as [`Encoding::name`] writes it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Bytes of a rows × cols block (scales first, then the values), `None` on overflow.
    pub const fn block_bytes(self, rows: usize, cols: usize) -> Option<usize> {
        let values = match rows.checked_mul(cols) {
            Some(n) => n.checked_mul(self.value_bytes()),
            None => None,
        };
        match (values, self.is_integer()) {
            (Some(v), true) => match rows.checked_mul(4) {
                Some(s) => s.checked_add(v),
                None => None,
            },
            (v, false) => v,
            (None, true) => None,
        }
    }

    /// Whether a posterior evaluated in `S` can hold this encoding's values exactly (only an
    /// `f64` evaluation can hold `F64` blocks).
    pub fn fits<S: StoredScalar>(self) -> bool {
        self != Encoding::F64 || S::NATIVE == Encoding::F64
    }
}

/// Fixed-point bits of an [`Operand`]: |q| ≤ 2²⁶, so a sum of [`MAX_DIM`](super::MAX_DIM)
/// (2²⁰) products with 16-bit values stays below 2⁶¹ and cannot overflow an `i64`.
const OPERAND_ONE: f32 = (1u32 << 26) as f32;

/// IEEE half bits to `f32`, exactly: the half's exponent and significand are placed in an
/// `f32`'s low exponent bits (a value 2¹¹² times too small, subnormals included), then scaled.
#[inline(always)]
fn f16_to_f32(h: u16) -> f32 {
    let h = u32::from(h);
    f32::from_bits(((h & 0x8000) << 16) | ((h & 0x7FFF) << 13)) * f32::from_bits(0x7780_0000)
    // 2^112
}

/// A stored block: rows × cols values, native or encoded in borrowed blob bytes.
///
/// ```
/// use svgp::deploy::{Block, Encoding};
/// // Two rows of i16 with scales 0.5 and 0.25: [[2, -4], [8, 1]] → [[1, -2], [2, 0.25]].
/// let mut bytes = Vec::new();
/// for s in [0.5f32, 0.25] { bytes.extend(s.to_le_bytes()); }
/// for q in [2i16, -4, 8, 1] { bytes.extend(q.to_le_bytes()); }
/// let b = Block::<f32>::from_bytes(Encoding::I16, 2, 2, &bytes)?;
/// assert_eq!((b.get(1), b.get(3)), (-2.0, 0.25));
/// assert_eq!(b.dot(2, &[1.0, 4.0]), 3.0); // row 1 · (1, 4)
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Block<'a, S> {
    rows: usize,
    cols: usize,
    data: Data<'a, S>,
}

#[derive(Clone, Copy, Debug)]
enum Data<'a, S> {
    Native(&'a [S]),
    Encoded { encoding: Encoding, scales: &'a [u8], values: &'a [u8] },
}

impl<S> Default for Block<'_, S> {
    fn default() -> Self {
        Self { rows: 0, cols: 0, data: Data::Native(&[]) }
    }
}

impl<'a, S: StoredScalar> Block<'a, S> {
    /// A native block over `values` (rows·cols long).
    pub fn native(rows: usize, cols: usize, values: &'a [S]) -> Result<Self> {
        let n = rows.checked_mul(cols).ok_or(Error::SizeOverflow { what: "block" })?;
        check_len("block values", n, values.len())?;
        Ok(Self { rows, cols, data: Data::Native(values) })
    }

    /// A block over blob bytes in `encoding` (exactly [`Encoding::block_bytes`] long: for the
    /// integer encodings the rows' `f32` scales, then the values).
    pub fn from_bytes(encoding: Encoding, rows: usize, cols: usize, bytes: &'a [u8]) -> Result<Self> {
        let n = encoding.block_bytes(rows, cols).ok_or(Error::SizeOverflow { what: "block" })?;
        check_len("block bytes", n, bytes.len())?;
        let (scales, values) = bytes.split_at(if encoding.is_integer() { 4 * rows } else { 0 });
        Ok(Self { rows, cols, data: Data::Encoded { encoding, scales, values } })
    }

    /// Rows.
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Columns.
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Values (rows·cols).
    #[inline]
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }
    /// Whether the block holds no value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The blob encoding, `None` for a native block.
    pub fn encoding(&self) -> Option<Encoding> {
        match self.data {
            Data::Native(_) => None,
            Data::Encoded { encoding, .. } => Some(encoding),
        }
    }
    /// The values, for a native block.
    pub fn as_native(&self) -> Option<&'a [S]> {
        match self.data {
            Data::Native(v) => Some(v),
            Data::Encoded { .. } => None,
        }
    }

    /// Row `r`'s scale (1 for every encoding but the integer ones).
    #[inline]
    pub fn row_scale(&self, r: usize) -> S {
        match self.data {
            Data::Encoded { encoding, scales, .. } if encoding.is_integer() => {
                S::from_f32(f32::from_le_bytes([
                    scales[4 * r],
                    scales[4 * r + 1],
                    scales[4 * r + 2],
                    scales[4 * r + 3],
                ]))
            }
            _ => S::one(),
        }
    }

    /// Value `i` (row-major), without the row scale of the integer encodings.
    #[inline(always)]
    fn raw(&self, i: usize) -> S {
        match self.data {
            Data::Native(v) => v[i],
            Data::Encoded { encoding, values: b, .. } => match encoding {
                Encoding::F64 => S::from_f64(f64::from_le_bytes([
                    b[8 * i],
                    b[8 * i + 1],
                    b[8 * i + 2],
                    b[8 * i + 3],
                    b[8 * i + 4],
                    b[8 * i + 5],
                    b[8 * i + 6],
                    b[8 * i + 7],
                ])),
                Encoding::F32 => {
                    S::from_f32(f32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]))
                }
                Encoding::F16 => S::from_f32(f16_to_f32(u16::from_le_bytes([b[2 * i], b[2 * i + 1]]))),
                Encoding::Bf16 => {
                    S::from_f32(f32::from_bits(u32::from(u16::from_le_bytes([b[2 * i], b[2 * i + 1]])) << 16))
                }
                Encoding::I16 => S::from_f32(f32::from(i16::from_le_bytes([b[2 * i], b[2 * i + 1]]))),
                Encoding::I8 => S::from_f32(f32::from(b[i] as i8)),
            },
        }
    }

    /// Value `i` (row-major).
    #[inline]
    pub fn get(&self, i: usize) -> S {
        match self.data {
            Data::Encoded { encoding, .. } if encoding.is_integer() => {
                self.raw(i) * self.row_scale(i / self.cols)
            }
            _ => self.raw(i),
        }
    }

    /// All values into `out` (rows·cols long).
    pub fn decode_into(&self, out: &mut [S]) -> Result<()> {
        check_len("decoded block", self.len(), out.len())?;
        match self.data {
            Data::Native(v) => out.copy_from_slice(v),
            _ => out.iter_mut().enumerate().for_each(|(i, o)| *o = self.get(i)),
        }
        Ok(())
    }

    /// [`Error::NonFinite`] (with the index `base + i` of the offending value, `what` naming
    /// the storage) if a value or a row scale is not finite: a half or bfloat16 with an
    /// all-ones exponent, or a non-finite `f32`/`f64`.
    pub fn check_finite(&self, what: &'static str, base: usize) -> Result<()> {
        let bad = |i: usize, v: f64| Err(Error::NonFinite { what, index: base + i, value: v });
        if let Data::Encoded { encoding: Encoding::F16, values, .. } = self.data {
            for (i, c) in values.chunks_exact(2).enumerate() {
                if u16::from_le_bytes([c[0], c[1]]) & 0x7C00 == 0x7C00 {
                    return bad(i, f64::NAN);
                }
            }
            return Ok(());
        }
        for r in 0..self.rows {
            let s = self.row_scale(r);
            if !s.is_finite() {
                return bad(r * self.cols, s.re());
            }
        }
        for i in 0..self.len() {
            let v = self.raw(i);
            if !v.is_finite() {
                return bad(i, v.re());
            }
        }
        Ok(())
    }

    /// Σₖ v\[start + k\]·x\[k\] over the values from `start` (row-major), in `S` arithmetic
    /// (`start + x.len()` ≤ len; a range may span rows).
    pub fn dot(&self, start: usize, x: &[S]) -> S {
        let mut acc = S::zero();
        match self.data {
            Data::Native(v) => {
                for (&a, &b) in v[start..start + x.len()].iter().zip(x) {
                    acc += a * b;
                }
            }
            Data::Encoded { encoding, .. } if encoding.is_integer() => {
                // Row by row: Σ q·x, then the row's scale.
                let (mut i, mut rest) = (start, x);
                while !rest.is_empty() {
                    let r = i / self.cols;
                    let n = ((r + 1) * self.cols - i).min(rest.len());
                    let (now, later) = rest.split_at(n);
                    let mut part = S::zero();
                    for (k, &b) in now.iter().enumerate() {
                        part += self.raw(i + k) * b;
                    }
                    acc += part * self.row_scale(r);
                    (i, rest) = (i + n, later);
                }
            }
            Data::Encoded { encoding, values, .. } => {
                let size = encoding.value_bytes();
                let bytes = &values[start * size..(start + x.len()) * size];
                match encoding {
                    Encoding::F32 => {
                        for (c, &b) in bytes.chunks_exact(4).zip(x) {
                            acc += S::from_f32(f32::from_le_bytes([c[0], c[1], c[2], c[3]])) * b;
                        }
                    }
                    _ => {
                        for (k, &b) in x.iter().enumerate() {
                            acc += self.raw(start + k) * b;
                        }
                    }
                }
            }
        }
        acc
    }

    /// Row `r` dotted with a prepared vector (cols long): in integer arithmetic when the block
    /// is integer-encoded and the operand has its fixed-point copy, else as [`Block::dot`].
    #[inline]
    pub fn row_dot(&self, r: usize, op: &Operand<'_, S>) -> S {
        let cols = self.cols;
        match self.data {
            Data::Encoded { encoding, values, .. } if encoding.is_integer() && op.q.len() >= cols => {
                let q = &op.q[..cols];
                let mut acc = 0i64;
                if encoding == Encoding::I16 {
                    // ldrsh, ldr, smlal on a Cortex-M4.
                    for (c, &x) in values[2 * r * cols..2 * (r + 1) * cols].chunks_exact(2).zip(q) {
                        acc += i64::from(i16::from_le_bytes([c[0], c[1]])) * i64::from(x.carried());
                    }
                } else {
                    for (&c, &x) in values[r * cols..(r + 1) * cols].iter().zip(q) {
                        acc += i64::from(c as i8) * i64::from(x.carried());
                    }
                }
                S::from_i64(acc) * (self.row_scale(r) * op.unit)
            }
            _ => self.dot(r * cols, &op.x[..cols]),
        }
    }

    /// out = vᵀ·A (out_j = Σ_r v_r·A\[r\]\[j\]): `v` has a value per row, `out` per column. The
    /// integer encodings fold the row scales into v and put it in fixed point in `slots`
    /// (at least rows long).
    pub fn vec_mat(&self, v: &[S], out: &mut [S], slots: &mut [S]) -> Result<()> {
        let (rows, cols) = (self.rows, self.cols);
        check_len("vector (block rows)", rows, v.len())?;
        check_len("output (block columns)", cols, out.len())?;
        match self.data {
            Data::Encoded { encoding, values, .. } if encoding.is_integer() => {
                check_buf("block operand slots", rows, slots.len())?;
                let slots = &mut slots[..rows];
                for (r, (s, &x)) in slots.iter_mut().zip(v).enumerate() {
                    *s = x * self.row_scale(r);
                }
                let unit = to_fixed(slots);
                let size = encoding.value_bytes();
                for (j, o) in out.iter_mut().enumerate() {
                    let mut acc = 0i64;
                    // Column j: one value per row, rows·cols apart.
                    for (row, &q) in values.chunks_exact(size * cols).zip(slots.iter()) {
                        let w = if size == 2 {
                            i64::from(i16::from_le_bytes([row[2 * j], row[2 * j + 1]]))
                        } else {
                            i64::from(row[j] as i8)
                        };
                        acc += w * i64::from(q.carried());
                    }
                    *o = S::from_i64(acc) * unit;
                }
            }
            _ => {
                for (j, o) in out.iter_mut().enumerate() {
                    let mut acc = S::zero();
                    for (r, &x) in v.iter().enumerate() {
                        acc += x * self.raw(r * cols + j);
                    }
                    *o = acc;
                }
            }
        }
        Ok(())
    }
}

/// Replaces `v` by its fixed-point copy (carried in the slots, |q| ≤ 2²⁶, truncated) and
/// returns the value of one step, max|v|/2²⁶ (NaN if a value is not finite, so the results
/// stay non-finite and the caller's finiteness check catches them).
fn to_fixed<S: StoredScalar>(v: &mut [S]) -> S {
    let mut max = S::zero();
    let mut finite = true;
    for &x in v.iter() {
        finite &= x.is_finite();
        max = max.max(x.abs());
    }
    let one = S::from_f32(OPERAND_ONE);
    if !finite {
        v.iter_mut().for_each(|x| *x = S::carry(0));
        return S::from_f64(f64::NAN);
    }
    if max == S::zero() {
        v.iter_mut().for_each(|x| *x = S::carry(0));
        return S::zero();
    }
    let inv = one / max;
    v.iter_mut().for_each(|x| *x = S::carry((*x * inv).to_i32()));
    max / one
}

/// A vector prepared for a block's [`Block::row_dot`]: its values and, for an integer-encoded
/// block, their fixed-point copy and the value of one step.
#[derive(Clone, Copy, Debug)]
pub struct Operand<'w, S> {
    x: &'w [S],
    q: &'w [S],
    unit: S,
}

impl<'w, S: StoredScalar> Operand<'w, S> {
    /// `x` for dot products with `block`'s rows: put in fixed point in `slots` (at least
    /// x.len()) when the block is integer-encoded, as it is otherwise.
    pub fn for_block(block: &Block<'_, S>, x: &'w [S], slots: &'w mut [S]) -> Result<Self> {
        Self::new(x, slots, block.encoding().is_some_and(Encoding::is_integer))
    }

    /// `x`, with its fixed-point copy in `slots` (at least x.len()) when `fixed`.
    pub fn new(x: &'w [S], slots: &'w mut [S], fixed: bool) -> Result<Self> {
        if !fixed {
            return Ok(Self { x, q: &[], unit: S::zero() });
        }
        check_buf("operand slots", x.len(), slots.len())?;
        let q = &mut slots[..x.len()];
        q.copy_from_slice(x);
        let unit = to_fixed(q);
        Ok(Self { x, q, unit })
    }
}

/// A block's role in a posterior, which decides its encoding under a [`Plan`](super::Plan).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Single values the whole prediction scales with (σ², likelihood parameters, the
    /// variance eigenvalues, a lengthscale, a kernel's hyperparameters).
    Scalar,
    /// The mean weights (w of a feature posterior, α of a closed-form one).
    Mean,
    /// The variance factors (the eigen-rows of a feature posterior, L_z and L of a closed-form one).
    Variance,
    /// Weight matrices of a feature map (MLP layers, random-feature frequencies), inducing inputs.
    Weights,
    /// Offset vectors of a feature map (biases, random-feature phases).
    Offsets,
}

/// The shape and role of one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockSpec {
    /// What the block holds.
    pub role: Role,
    /// Rows (each integer-encoded row has its own scale).
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}

impl BlockSpec {
    /// A block of `rows` × `cols` values in role `role`.
    pub const fn new(role: Role, rows: usize, cols: usize) -> Self {
        Self { role, rows, cols }
    }
    /// A row of `n` values.
    pub const fn row(role: Role, n: usize) -> Self {
        Self { role, rows: 1, cols: n }
    }
}

/// Most parameter blocks a feature map may declare (an [`Mlp`](crate::nn::Mlp) of
/// [`MAX_LAYERS`](crate::nn::MAX_LAYERS) layers, weights and biases, plus three).
pub const MAX_PARAM_BLOCKS: usize = 2 * crate::nn::MAX_LAYERS + 3;

/// A feature map's or kernel's parameters as blocks, in storage order.
#[derive(Clone, Copy, Debug)]
pub struct ParamBlocks<'a, S> {
    blocks: [Block<'a, S>; MAX_PARAM_BLOCKS],
    n: usize,
    /// All values as one slice, for native storage.
    whole: Option<&'a [S]>,
}

impl<'a, S: StoredScalar> ParamBlocks<'a, S> {
    /// Native parameters `values`, split into blocks of the shapes `specs`.
    pub fn native(specs: &[BlockSpec], values: &'a [S]) -> Result<Self> {
        let mut out = Self::empty(specs.len())?;
        let mut rest = values;
        for (b, spec) in out.blocks.iter_mut().zip(specs) {
            let n =
                spec.rows.checked_mul(spec.cols).ok_or(Error::SizeOverflow { what: "parameter block" })?;
            check_buf("parameter blocks", n, rest.len())?;
            let (now, later) = rest.split_at(n);
            *b = Block::native(spec.rows, spec.cols, now)?;
            rest = later;
        }
        check_len("parameter blocks", 0, rest.len())?;
        out.whole = Some(values);
        Ok(out)
    }

    /// Blocks read from a blob (at most [`MAX_PARAM_BLOCKS`]).
    pub fn from_blocks(blocks: &[Block<'a, S>]) -> Result<Self> {
        let mut out = Self::empty(blocks.len())?;
        out.blocks[..blocks.len()].copy_from_slice(blocks);
        Ok(out)
    }

    fn empty(n: usize) -> Result<Self> {
        if n > MAX_PARAM_BLOCKS {
            return Err(Error::DimensionMismatch {
                what: "parameter blocks",
                expected: MAX_PARAM_BLOCKS,
                found: n,
            });
        }
        Ok(Self { blocks: [Block::default(); MAX_PARAM_BLOCKS], n, whole: None })
    }

    /// The blocks.
    pub fn blocks(&self) -> &[Block<'a, S>] {
        &self.blocks[..self.n]
    }
    /// Total values.
    pub fn len(&self) -> usize {
        self.blocks().iter().map(Block::len).sum()
    }
    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The values as one slice, for native storage (a posterior built on the host, or read
    /// into native storage).
    pub fn as_native(&self) -> Option<&'a [S]> {
        self.whole
    }
    /// Every value into `out` ([`Self::len`] long).
    pub fn decode_into(&self, out: &mut [S]) -> Result<()> {
        check_len("decoded parameters", self.len(), out.len())?;
        let mut rest = out;
        for b in self.blocks() {
            let (now, later) = rest.split_at_mut(b.len());
            b.decode_into(now)?;
            rest = later;
        }
        Ok(())
    }
}
