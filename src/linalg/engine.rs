//! The matrix-product engine behind [`gemm`](super::gemm), [`syrk`](super::syrk) and the
//! blocked factorisations: `C ← β·C + α·A·B` on strided sub-matrices of slices.
//!
//! Large products of `f32`/`f64` go through a packed, register-blocked kernel (the BLIS
//! scheme): a block of `A` (several strips of `MR × kc`) and a `kc × nc` block of `B` are
//! copied into stack buffers in the order the micro-kernel reads them (this is where
//! transposes disappear), then the micro-kernel keeps an `MR × NR` tile of `C` in registers
//! for the whole `kc` loop. Buffers: 64 KiB + 96 KiB of stack (f64) for products of at
//! least 2²⁰ multiply-adds under `std`, 8 KiB + 6 KiB otherwise (the buffers are
//! zero-initialised on each call, so their size is matched to the work; `no_std` targets
//! only ever use the small ones).
//! Small products, and scalar types wider than an `f64` ([`Scalar::LANE_BYTES`] > 8, such as
//! most `Dual`s), use plain loops in the order that reads memory contiguously.
//!
//! `A` and `B` are read from slices other than `C`'s (the borrow checker sees to that).
//! Callers (all inside `linalg`) guarantee that every index described by the strides is in
//! bounds; the public functions check dimensions once, before calling in.

use super::vector::{axpy_kernel, dot_kernel};
use crate::arch::simd;
use crate::Scalar;

/// Where element `(i, j)` of an operand lives: `off + i·rs + j·cs`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Strides {
    pub off: usize,
    pub rs: usize,
    pub cs: usize,
}

impl Strides {
    /// A row-major `? × cols` matrix at `off`, used as stored.
    #[inline]
    pub fn row_major(off: usize, cols: usize) -> Self {
        Self { off, rs: cols, cs: 1 }
    }
    /// A row-major `? × cols` matrix at `off`, used transposed.
    #[inline]
    pub fn transposed(off: usize, cols: usize) -> Self {
        Self { off, rs: 1, cs: cols }
    }
    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> usize {
        self.off + i * self.rs + j * self.cs
    }
}

/// Which entries of `C` are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// All of them.
    Full,
    /// Only `j ≤ i` (a diagonal block of a symmetric result; the rest is left untouched).
    Lower,
}

/// One product `C ← β·C + α·A·B` with `A` m × k, `B` k × n and `C` m × n at
/// `c[c_off + i·c_rs + j]`. With `β = 0` the old `C` is ignored (NaN included).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Product<'a, S> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub alpha: S,
    pub a: &'a [S],
    pub sa: Strides,
    pub b: &'a [S],
    pub sb: Strides,
    pub beta: S,
    pub c_off: usize,
    pub c_rs: usize,
    pub part: Part,
}

/// Products with fewer multiply-adds than this use the plain loops (packing would not pay).
const PACK_MIN_FLOPS: usize = 8192;
/// Products with at least this many multiply-adds use the large packing buffers.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
const LARGE_MIN_FLOPS: usize = 1 << 20;

/// Runs the product through the best path for its size and scalar type.
pub(crate) fn product<S: Scalar>(p: &Product<'_, S>, c: &mut [S]) {
    let flops = p.m.saturating_mul(p.n).saturating_mul(p.k);
    let width = S::LANE_BYTES;
    if flops < PACK_MIN_FLOPS || width > 8 {
        simd(
            #[inline(always)]
            || plain(p, c),
        );
        return;
    }
    product_packed(p, c, flops, width);
}

/// The packed paths of [`product`], out of line: their stack buffers (up to 160 KiB for f64)
/// then stay out of `product`'s own frame. Unoptimised builds keep every inlined branch's
/// buffers in the frame, dead or not, and for a wide type such as `Dual<f64, 8>` (which never
/// takes this path) they came to 3.3 MB, more than a test thread's 2 MiB stack.
#[inline(never)]
fn product_packed<S: Scalar>(p: &Product<'_, S>, c: &mut [S], flops: usize, width: usize) {
    // `no_std` targets only ever use the small buffers (their frame then holds no large ones).
    #[cfg(not(feature = "std"))]
    let _ = flops;
    // Tile shapes: 6 × 8 for 8-byte scalars and 6 × 16 for 4-byte ones is 12 AVX2 accumulator
    // registers, plus two for B and one broadcast of A: the 16 ymm registers, no spills.
    #[cfg(feature = "std")]
    if flops >= LARGE_MIN_FLOPS {
        if width <= 4 {
            simd(
                #[inline(always)]
                || packed::<S, 6, 16, 256, 8192, 12288>(p, c),
            );
        } else {
            simd(
                #[inline(always)]
                || packed::<S, 6, 8, 256, 8192, 12288>(p, c),
            );
        }
        return;
    }
    if width <= 4 {
        simd(
            #[inline(always)]
            || packed::<S, 6, 16, 64, 1024, 768>(p, c),
        );
    } else {
        simd(
            #[inline(always)]
            || packed::<S, 6, 8, 64, 1024, 768>(p, c),
        );
    }
}

/// `C ← β·C` on the entries the product writes.
#[inline(always)]
fn scale_c<S: Scalar>(p: &Product<'_, S>, c: &mut [S]) {
    if p.beta == S::one() {
        return;
    }
    for i in 0..p.m {
        let w = if p.part == Part::Lower { (i + 1).min(p.n) } else { p.n };
        let row = &mut c[p.c_off + i * p.c_rs..][..w];
        if p.beta == S::zero() {
            row.iter_mut().for_each(|v| *v = S::zero());
        } else {
            row.iter_mut().for_each(|v| *v *= p.beta);
        }
    }
}

/// Unpacked loops, ordered so the innermost loop runs over contiguous memory.
#[inline(always)]
fn plain<S: Scalar>(p: &Product<'_, S>, c: &mut [S]) {
    scale_c(p, c);
    let (sa, sb) = (p.sa, p.sb);
    for i in 0..p.m {
        let w = if p.part == Part::Lower { (i + 1).min(p.n) } else { p.n };
        let crow = p.c_off + i * p.c_rs;
        if sb.cs == 1 {
            // B's rows are contiguous: C_i += Σ_p (α·A_ip)·B_p, an axpy per p.
            for q in 0..p.k {
                let aip = p.alpha * p.a[sa.at(i, q)];
                let bstart = sb.at(q, 0);
                axpy_kernel(aip, &p.b[bstart..bstart + w], &mut c[crow..crow + w]);
            }
        } else if sa.cs == 1 && sb.rs == 1 {
            // Both operands contiguous along k: each entry is one dot product.
            for j in 0..w {
                let ar = sa.at(i, 0);
                let br = sb.at(0, j);
                let d = dot_kernel(&p.a[ar..ar + p.k], &p.b[br..br + p.k]);
                c[crow + j] += p.alpha * d;
            }
        } else {
            for j in 0..w {
                let mut s = S::zero();
                for q in 0..p.k {
                    s += p.a[sa.at(i, q)] * p.b[sb.at(q, j)];
                }
                c[crow + j] += p.alpha * s;
            }
        }
    }
}

/// The register-blocked micro-kernel: `acc = Σ_p a_p ⊗ b_p` over a packed `MR`-strip of `A`
/// and a packed `NR`-panel of `B`. The `MR × NR` accumulators live in registers for the
/// whole loop; each step loads `NR` values of `B` once and reuses each broadcast of `A`
/// across them, so memory traffic is `MR + NR` loads per `MR·NR` multiply-adds. Multiply
/// and add stay separate instructions (Rust does not contract them), which on cores with
/// separate multiply and add pipes (AMD Zen) runs near fused-multiply-add peak.
#[inline(always)]
fn micro<S: Scalar, const MR: usize, const NR: usize>(ap: &[S], bp: &[S]) -> [[S; NR]; MR] {
    let mut acc = [[S::zero(); NR]; MR];
    for (a, b) in ap.chunks_exact(MR).zip(bp.chunks_exact(NR)) {
        for i in 0..MR {
            let ai = a[i];
            for j in 0..NR {
                acc[i][j] += ai * b[j];
            }
        }
    }
    acc
}

/// Packed product; `BB` is the B-block buffer length, `AB ≥ MR·KC` the A-block buffer
/// (up to `AB / (MR·kc)` strips).
#[inline(always)]
fn packed<S: Scalar, const MR: usize, const NR: usize, const KC: usize, const BB: usize, const AB: usize>(
    p: &Product<'_, S>,
    c: &mut [S],
) {
    if p.m == 0 || p.n == 0 {
        return;
    }
    if p.k == 0 {
        scale_c(p, c);
        return;
    }
    let mut abuf = [S::zero(); AB];
    let mut bbuf = [S::zero(); BB];
    let kcmax = KC.min(BB / NR).min(AB / MR).max(1);
    let lower = p.part == Part::Lower;
    // Loop order (BLIS): for each k-block, pack up to `AB / (MR·kc)` strips of A once, then
    // stream B through in `nc`-wide packed blocks; so each operand is packed about once
    // per k-block whatever the shape (thin A for the flagship's M = 30, thin B for its
    // 600 × 30 products).
    let mut pc = 0;
    while pc < p.k {
        let kc = kcmax.min(p.k - pc);
        let first = pc == 0;
        let ncmax = (BB / kc) / NR * NR;
        let mcmax = (AB / (kc * MR)).max(1) * MR;
        let mut icb = 0;
        while icb < p.m {
            let mc = mcmax.min(p.m - icb);
            let strips = mc.div_ceil(MR);
            for s in 0..strips {
                let ic = icb + s * MR;
                let mr = MR.min(p.m - ic);
                pack_a::<S, MR>(p.a, p.sa, ic, mr, pc, kc, &mut abuf[s * kc * MR..(s + 1) * kc * MR]);
            }
            let mut jc = 0;
            while jc < p.n {
                let nc = ncmax.min(p.n - jc);
                // In `Lower` mode a block entirely above the diagonal has nothing to write.
                if lower && icb + mc <= jc {
                    break;
                }
                let panels = nc.div_ceil(NR);
                pack_b::<S, NR>(p.b, p.sb, pc, kc, jc, nc, &mut bbuf);
                for s in 0..strips {
                    let ic = icb + s * MR;
                    let mr = MR.min(p.m - ic);
                    let ap = &abuf[s * kc * MR..(s + 1) * kc * MR];
                    for q in 0..panels {
                        let j0 = jc + q * NR;
                        if lower && ic + mr <= j0 {
                            break;
                        }
                        let nr = NR.min(p.n - j0);
                        let acc = micro::<S, MR, NR>(ap, &bbuf[q * kc * NR..(q + 1) * kc * NR]);
                        store(p, c, &acc, ic, mr, j0, nr, first);
                    }
                }
                jc += nc;
            }
            icb += mc;
        }
        pc += kc;
    }
}

/// `abuf[q·MR + i] = A(i0 + i, p0 + q)`, zero-padded to `MR` rows.
///
/// The loops follow the source's contiguous direction (reads stream; the scattered writes
/// land in the small, L1-resident buffer).
#[inline(always)]
fn pack_a<S: Scalar, const MR: usize>(
    a: &[S],
    s: Strides,
    i0: usize,
    mr: usize,
    p0: usize,
    kc: usize,
    buf: &mut [S],
) {
    let buf = &mut buf[..kc * MR];
    if mr < MR {
        buf.iter_mut().for_each(|v| *v = S::zero());
    }
    if s.cs == 1 {
        // Rows of A are contiguous along k.
        for i in 0..mr {
            let start = s.at(i0 + i, p0);
            for (dst, &v) in buf.chunks_exact_mut(MR).zip(&a[start..start + kc]) {
                dst[i] = v;
            }
        }
    } else if s.rs == 1 && mr == MR {
        // A enters transposed: each k step is a contiguous run of MR values.
        for (q, dst) in buf.chunks_exact_mut(MR).enumerate() {
            let start = s.at(i0, p0 + q);
            dst.copy_from_slice(&a[start..start + MR]);
        }
    } else {
        for (q, dst) in buf.chunks_exact_mut(MR).enumerate() {
            for i in 0..mr {
                dst[i] = a[s.at(i0 + i, p0 + q)];
            }
        }
    }
}

/// Panel `t` of `bbuf` holds `B(p0 + q, j0 + t·NR + j)` at `t·kc·NR + q·NR + j`, zero-padded.
/// As in [`pack_a`], the loops follow the source's contiguous direction.
#[inline(always)]
fn pack_b<S: Scalar, const NR: usize>(
    b: &[S],
    s: Strides,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    buf: &mut [S],
) {
    for (t, panel) in buf.chunks_exact_mut(kc * NR).take(nc.div_ceil(NR)).enumerate() {
        let jt = j0 + t * NR;
        let nr = NR.min(j0 + nc - jt);
        if s.cs == 1 && nr == NR {
            // B's rows are contiguous along j: copy NR at a time.
            for (q, dst) in panel.chunks_exact_mut(NR).enumerate() {
                let start = s.at(p0 + q, jt);
                dst.copy_from_slice(&b[start..start + NR]);
            }
        } else {
            if nr < NR {
                panel.iter_mut().for_each(|v| *v = S::zero());
            }
            if s.rs == 1 {
                // B enters transposed: column j of op(B) is a contiguous run along k.
                for j in 0..nr {
                    let start = s.at(p0, jt + j);
                    for (dst, &v) in panel.chunks_exact_mut(NR).zip(&b[start..start + kc]) {
                        dst[j] = v;
                    }
                }
            } else {
                for (q, dst) in panel.chunks_exact_mut(NR).enumerate() {
                    for j in 0..nr {
                        dst[j] = b[s.at(p0 + q, jt + j)];
                    }
                }
            }
        }
    }
}

/// Adds `α·acc` into the valid `mr × nr` corner of the tile at `(i0, j0)`; on the first
/// k-block, `β·C` is folded in (and `C` ignored when `β = 0`).
#[inline(always)]
fn store<S: Scalar, const MR: usize, const NR: usize>(
    p: &Product<'_, S>,
    c: &mut [S],
    acc: &[[S; NR]; MR],
    i0: usize,
    mr: usize,
    j0: usize,
    nr: usize,
    first: bool,
) {
    if nr == NR && p.part == Part::Full {
        // Full-width rows: fixed-length slices, so the loops compile to vector stores.
        for (i, a) in acc.iter().enumerate().take(mr) {
            let start = p.c_off + (i0 + i) * p.c_rs + j0;
            store_row(p, &mut c[start..start + NR], a, first);
        }
        return;
    }
    for i in 0..mr {
        let w = if p.part == Part::Lower { nr.min((i0 + i + 1).saturating_sub(j0)) } else { nr };
        store_row(p, &mut c[p.c_off + (i0 + i) * p.c_rs + j0..][..w], &acc[i][..w], first);
    }
}

/// One row of [`store`]: `row ← α·a` plus `row` (after the first k-block or with β = 1), nothing
/// (β = 0) or `β·row`.
#[inline(always)]
fn store_row<S: Scalar>(p: &Product<'_, S>, row: &mut [S], a: &[S], first: bool) {
    if !first || p.beta == S::one() {
        for (cv, &v) in row.iter_mut().zip(a) {
            *cv += p.alpha * v;
        }
    } else if p.beta == S::zero() {
        for (cv, &v) in row.iter_mut().zip(a) {
            *cv = p.alpha * v;
        }
    } else {
        for (cv, &v) in row.iter_mut().zip(a) {
            *cv = p.beta * *cv + p.alpha * v;
        }
    }
}
