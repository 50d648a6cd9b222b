//! Which encoding each block of a blob gets ([`Plan`]), and the writer's encoders.

use super::block::{Encoding, Role};
use crate::error::{check_len, Error, Result};

/// The encoding of each block of a blob, chosen by the block's [`Role`], and how much of the
/// variance's rank the writer may drop.
///
/// ```
/// use svgp::deploy::{Encoding, Plan, Role};
/// let plan = Plan::uniform(Encoding::F32).with(Role::Variance, Encoding::I16);
/// assert_eq!((plan.encoding(Role::Mean), plan.encoding(Role::Variance)), (Encoding::F32, Encoding::I16));
/// assert_eq!(Plan::compact().encoding(Role::Scalar), Encoding::F32);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// σ², likelihood parameters, variance eigenvalues, lengthscales, kernel hyperparameters.
    pub scalar: Encoding,
    /// The mean weights.
    pub mean: Encoding,
    /// The variance rows (feature posterior) or factors (closed-form posterior).
    pub variance: Encoding,
    /// Feature-map weight matrices, inducing inputs.
    pub weights: Encoding,
    /// Feature-map offsets (biases, phases).
    pub offsets: Encoding,
    /// The writer drops trailing variance rows k of a feature posterior while
    /// Σ_dropped |λ_k| ≤ `rank_tolerance`·σ²: each dropped row changes the latent variance at
    /// any x by at most |λ_k|·|ψ(x)|², so the error stays below `rank_tolerance` times the
    /// prior variance σ²|ψ(x)|². 0 keeps every row (exact).
    pub rank_tolerance: f64,
}

impl Plan {
    /// Every block in `encoding`, every variance row kept.
    pub const fn uniform(encoding: Encoding) -> Self {
        Self {
            scalar: encoding,
            mean: encoding,
            variance: encoding,
            weights: encoding,
            offsets: encoding,
            rank_tolerance: 0.0,
        }
    }

    /// The small plan for microcontrollers: 16-bit integers with per-row scales for every
    /// vector and matrix, `f32` for the single values. On the flagship deep kernel it keeps
    /// max |Δ mean| and max |Δ variance|/σ² against the `f64` model below 1e-3 on the
    /// 80 × 80 grid (`tests/deploy_precision.rs` asserts it; firmware/README.md has the
    /// numbers) at half the size of an `f32` blob.
    pub const fn compact() -> Self {
        Self {
            scalar: Encoding::F32,
            mean: Encoding::I16,
            variance: Encoding::I16,
            weights: Encoding::I16,
            offsets: Encoding::I16,
            rank_tolerance: 0.0,
        }
    }

    /// This plan with blocks in `role` stored as `encoding`.
    pub const fn with(mut self, role: Role, encoding: Encoding) -> Self {
        match role {
            Role::Scalar => self.scalar = encoding,
            Role::Mean => self.mean = encoding,
            Role::Variance => self.variance = encoding,
            Role::Weights => self.weights = encoding,
            Role::Offsets => self.offsets = encoding,
        }
        self
    }

    /// This plan with the given [`Plan::rank_tolerance`].
    pub const fn with_rank_tolerance(mut self, tolerance: f64) -> Self {
        self.rank_tolerance = tolerance;
        self
    }

    /// The encoding of blocks in `role`.
    pub const fn encoding(&self, role: Role) -> Encoding {
        match role {
            Role::Scalar => self.scalar,
            Role::Mean => self.mean,
            Role::Variance => self.variance,
            Role::Weights => self.weights,
            Role::Offsets => self.offsets,
        }
    }
}

/// `v` rounded to nearest (ties to even) on a binary float grid with `sig` significand bits
/// and smallest normal exponent `emin` (below it the grid is the subnormals').
fn round_to_grid(v: f64, sig: i32, emin: i32) -> f64 {
    if v == 0.0 {
        return v;
    }
    let e = (libm::frexp(v.abs()).1 - 1).max(emin);
    let ulp = libm::ldexp(1.0, e - (sig - 1));
    libm::rint(v / ulp) * ulp
}

/// IEEE half bits of `v`, rounded to nearest even; `None` if it rounds to ±∞.
pub(crate) fn f16_bits(v: f64) -> Option<u16> {
    let r = round_to_grid(v, 11, -14);
    if r.abs() > 65504.0 {
        return None;
    }
    let sign = if r.is_sign_negative() { 0x8000u16 } else { 0 };
    let a = r.abs();
    if a < libm::ldexp(1.0, -14) {
        // Subnormal (or zero): a multiple of 2⁻²⁴.
        return Some(sign | (a * libm::ldexp(1.0, 24)) as u16);
    }
    let bits = (a as f32).to_bits(); // exact: a has 11 significant bits
    let exp = ((bits >> 23) & 0xFF) as u16 - 112; // f32 bias 127 → half bias 15
    Some(sign | (exp << 10) | ((bits >> 13) & 0x3FF) as u16)
}

/// bfloat16 bits of `v`, rounded to nearest even; `None` if it rounds to ±∞.
pub(crate) fn bf16_bits(v: f64) -> Option<u16> {
    let r = round_to_grid(v, 8, -126);
    let f = r as f32; // exact
    f.is_finite().then_some((f.to_bits() >> 16) as u16)
}

/// Encodes a rows × cols block whose values `value(i)` gives (row-major) into `out`
/// (exactly [`Encoding::block_bytes`] long). A value that is not finite, or that the
/// encoding cannot hold (beyond ±65504 in half precision, beyond `f32`'s range), is an
/// [`Error::InvalidParameter`].
pub(crate) fn encode_block(
    encoding: Encoding,
    rows: usize,
    cols: usize,
    value: &dyn Fn(usize) -> f64,
    out: &mut [u8],
) -> Result<()> {
    let need = encoding.block_bytes(rows, cols).ok_or(Error::SizeOverflow { what: "block" })?;
    check_len("encoded block", need, out.len())?;
    let range = |v: f64| Error::InvalidParameter { what: "value out of the encoding's range", value: v };
    let n = rows * cols;
    for i in 0..n {
        let v = value(i);
        if !v.is_finite() {
            return Err(Error::NonFinite { what: "value to encode", index: i, value: v });
        }
    }
    if encoding.is_integer() {
        let q_max = if encoding == Encoding::I8 { 127.0 } else { 32767.0 };
        let (scales, values) = out.split_at_mut(4 * rows);
        for r in 0..rows {
            let max = (0..cols).map(|c| value(r * cols + c).abs()).fold(0.0, f64::max);
            let scale = (max / q_max) as f32;
            if !scale.is_finite() {
                return Err(range(max));
            }
            scales[4 * r..4 * r + 4].copy_from_slice(&scale.to_le_bytes());
            for c in 0..cols {
                let i = r * cols + c;
                let q = if scale > 0.0 {
                    libm::rint(value(i) / f64::from(scale)).clamp(-q_max, q_max)
                } else {
                    0.0
                };
                if encoding == Encoding::I8 {
                    values[i] = (q as i8) as u8;
                } else {
                    values[2 * i..2 * i + 2].copy_from_slice(&(q as i16).to_le_bytes());
                }
            }
        }
        return Ok(());
    }
    for i in 0..n {
        let v = value(i);
        match encoding {
            Encoding::F64 => out[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes()),
            Encoding::F32 => {
                let f = v as f32;
                if !f.is_finite() {
                    return Err(range(v));
                }
                out[4 * i..4 * i + 4].copy_from_slice(&f.to_le_bytes());
            }
            Encoding::F16 | Encoding::Bf16 => {
                let h = if encoding == Encoding::F16 { f16_bits(v) } else { bf16_bits(v) };
                out[2 * i..2 * i + 2].copy_from_slice(&h.ok_or(range(v))?.to_le_bytes());
            }
            Encoding::I16 | Encoding::I8 => {}
        }
    }
    Ok(())
}
