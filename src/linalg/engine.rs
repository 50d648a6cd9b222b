//! The matrix-product engine behind [`gemm`](super::gemm), [`syrk`](super::syrk) and the
//! blocked factorisations: `C ← β·C + α·A·B` on strided sub-matrices of slices.
//!
//! Large products of `f32`/`f64` go through a packed, register-blocked kernel (the BLIS
//! scheme): a block of `A` (several strips of `MR × kc`) and a `kc × nc` block of `B` are
//! copied into stack buffers in the order the micro-kernel reads them (this is where
//! transposes disappear), then the micro-kernel keeps an `MR × NR` tile of `C` in registers
//! for the whole `kc` loop. Tile shapes are the CPU level's ([`crate::arch`]): 6 × 8 (f64)
//! and 6 × 16 (f32) for AVX2 and the portable copy, 12 × 16 and 12 × 32 with fused
//! multiply–adds for AVX-512. Buffers: 64 KiB + 96 KiB of stack (f64) for products of at
//! least 2²⁰ multiply-adds under `std`, 8 KiB + 6 KiB otherwise (the buffers are
//! zero-initialised on each call, so their size is matched to the work; `no_std` targets
//! only ever use the small ones).
//! Small products, and scalar types wider than an `f64` ([`Scalar::LANE_BYTES`] > 8, such as
//! most `Dual`s), use plain loops in the order that reads memory contiguously.
//!
//! `A` and `B` are read from slices other than `C`'s (the borrow checker sees to that).
//! Callers (all inside `linalg`) guarantee that every index described by the strides is in
//! bounds; the public functions check dimensions once, before calling in.

use super::vector::{axpy_kernel, dot_kernel, transpose_into};
use crate::arch::{dispatch, simd, Isa, Kernel};
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
    product_packed(p, c, flops);
}

/// The packed paths of [`product`], out of line: their stack buffers (up to 160 KiB for f64)
/// then stay out of `product`'s own frame. Unoptimised builds keep every inlined branch's
/// buffers in the frame, dead or not, and for a wide type such as `Dual<f64, 8>` (which never
/// takes this path) they came to 3.3 MB, more than a test thread's 2 MiB stack.
#[inline(never)]
fn product_packed<S: Scalar>(p: &Product<'_, S>, c: &mut [S], flops: usize) {
    // `no_std` targets only ever use the small buffers (their frame then holds no large ones).
    #[cfg(not(feature = "std"))]
    let large = {
        let _ = flops;
        false
    };
    #[cfg(feature = "std")]
    let large = flops >= LARGE_MIN_FLOPS;
    dispatch(Packed { p, c, large });
}

/// [`packed`] as a dispatched kernel: each level's copy picks its own tile shape.
struct Packed<'p, 'a, 'c, S> {
    p: &'p Product<'a, S>,
    c: &'c mut [S],
    /// Use the large buffers (products of at least [`LARGE_MIN_FLOPS`] multiply–adds).
    large: bool,
}

impl<S: Scalar> Kernel for Packed<'_, '_, '_, S> {
    type Output = ();
    #[inline(always)]
    fn run<I: Isa>(self) {
        let Packed { p, c, large } = self;
        // One pair of buffers per size, shared by the tile shapes: an unoptimised build keeps
        // every inlined call's locals in this frame, so buffers owned by each shape's call
        // would add up (megabytes, with every level's shapes).
        #[cfg(feature = "std")]
        if large {
            let mut abuf = [S::zero(); LARGE_A];
            let mut bbuf = [S::zero(); LARGE_B];
            return shaped::<I, S, 256>(p, c, &mut abuf, &mut bbuf);
        }
        let _ = large;
        let mut abuf = [S::zero(); SMALL_A];
        let mut bbuf = [S::zero(); SMALL_B];
        shaped::<I, S, 64>(p, c, &mut abuf, &mut bbuf)
    }
}

/// Values in the large A-block and B-block buffers (96 + 64 KiB for f64).
#[cfg_attr(not(feature = "std"), allow(dead_code))]
const LARGE_A: usize = 12288;
#[cfg_attr(not(feature = "std"), allow(dead_code))]
const LARGE_B: usize = 8192;
/// Values in the small buffers (6 + 8 KiB for f64).
const SMALL_A: usize = 768;
const SMALL_B: usize = 1024;

/// [`packed`] with the level's tile shape for this product, k-blocks of at most `KC`.
#[inline(always)]
fn shaped<I: Isa, S: Scalar, const KC: usize>(
    p: &Product<'_, S>,
    c: &mut [S],
    abuf: &mut [S],
    bbuf: &mut [S],
) {
    // Tile shapes (MR × NR), in registers for the whole k loop:
    // - 32-byte registers (AVX2; the portable copy too): 6 × 8 (f64) and 6 × 16 (f32), 12
    //   AVX2 accumulators plus two for B and one broadcast of A: the 16 ymm registers, no
    //   spills.
    // - AVX-512: 32 registers of 64 bytes. 12 × 16 (f64) and 12 × 32 (f32) are 24
    //   accumulators, two registers of B and one broadcast of A. Products at most one
    //   register wide (n ≤ 8 f64, 16 f32: the feature map's φ̄ = ū·Wᵀ) take 16 rows of one
    //   register instead, the broadcasts then folded into the multiply–adds' operands.
    // (`narrow` is known at compile time, so each copy keeps its scalar's shapes only.)
    let narrow = S::LANE_BYTES <= 4;
    I::by_width(
        (c, abuf, bbuf),
        #[inline(always)]
        |(c, abuf, bbuf)| {
            if narrow {
                packed::<I, S, 6, 16, KC>(p, c, abuf, bbuf)
            } else {
                packed::<I, S, 6, 8, KC>(p, c, abuf, bbuf)
            }
        },
        #[inline(always)]
        |(c, abuf, bbuf)| match (p.n <= if narrow { 16 } else { 8 }, narrow) {
            (false, true) => packed::<I, S, 12, 32, KC>(p, c, abuf, bbuf),
            (false, false) => packed::<I, S, 12, 16, KC>(p, c, abuf, bbuf),
            (true, true) => packed::<I, S, 16, 16, KC>(p, c, abuf, bbuf),
            (true, false) => packed::<I, S, 16, 8, KC>(p, c, abuf, bbuf),
        },
    )
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
/// across them, so memory traffic is `MR + NR` loads per `MR·NR` multiply-adds. The
/// multiply–add is the level's [`Isa::madd`]: separate multiply and add below AVX-512 (Rust
/// does not contract them; on cores with separate multiply and add pipes, AMD Zen, that runs
/// near fused peak), fused on AVX-512.
///
/// (The loop walks both panels with `chunks_exact`: no index checks and one exit. Forms with
/// a check that may panic, or a second exit, were measured to keep the accumulators in memory,
/// a store per multiply–add; so operands are always packed, even those already laid out as
/// the kernel reads them.)
#[inline(always)]
fn micro<I: Isa, S: Scalar, const MR: usize, const NR: usize>(ap: &[S], bp: &[S]) -> [[S; NR]; MR] {
    let mut acc = [[S::zero(); NR]; MR];
    for (a, b) in ap.chunks_exact(MR).zip(bp.chunks_exact(NR)) {
        unrolled!(MR, |i| {
            let ai = a[i];
            let row = &mut acc[i];
            for j in 0..NR {
                row[j] = I::madd(ai, b[j], row[j]);
            }
        });
    }
    acc
}

/// Packed product with k-blocks of at most `KC`, packing B in blocks of up to `bbuf.len()`
/// values and A in up to `abuf.len() / (MR·kc)` strips (both buffers hold at least one
/// `MR`-strip and `NR`-panel of `KC` steps).
#[inline(always)]
fn packed<I: Isa, S: Scalar, const MR: usize, const NR: usize, const KC: usize>(
    p: &Product<'_, S>,
    c: &mut [S],
    abuf: &mut [S],
    bbuf: &mut [S],
) {
    if p.m == 0 || p.n == 0 {
        return;
    }
    if p.k == 0 {
        scale_c(p, c);
        return;
    }
    let (ab, bb) = (abuf.len(), bbuf.len());
    let kcmax = KC.min(bb / NR).min(ab / MR).max(1);
    let lower = p.part == Part::Lower;
    // Loop order (BLIS): for each k-block, pack up to `ab / (MR·kc)` strips of A once, then
    // stream B through in `nc`-wide packed blocks; so each operand is packed about once
    // per k-block whatever the shape (thin A for the flagship's M = 30, thin B for its
    // 600 × 30 products).
    let mut pc = 0;
    while pc < p.k {
        let kc = kcmax.min(p.k - pc);
        let first = pc == 0;
        let ncmax = (bb / kc) / NR * NR;
        let mcmax = (ab / (kc * MR)).max(1) * MR;
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
                pack_b::<S, NR>(p.b, p.sb, pc, kc, jc, nc, bbuf);
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
                        let acc = micro::<I, S, MR, NR>(ap, &bbuf[q * kc * NR..(q + 1) * kc * NR]);
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
/// land in the small, L1-resident buffer; see [`transpose_into`]).
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
        transpose_into(a, s.at(i0, p0), s.rs, mr, kc, buf, MR);
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
                transpose_into(b, s.at(p0, jt), s.cs, nr, kc, panel, NR);
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
