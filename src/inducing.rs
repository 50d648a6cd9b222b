//! Initial inducing inputs Z: a random subset of the data ([`random_subset`] for a slice,
//! [`reservoir`] for a stream), or k-means++ centres ([`kmeans_pp`], optionally polished by
//! [`lloyd`] iterations).
//!
//! For very large N, run k-means++ on a random sample (a few thousand points catch the
//! geometry at a fraction of the O(N·M·D) cost): `examples/minibatch.rs` does this at N = 10⁶.
//!
//! All are seeded by a `rand_core` generator, so a run is reproducible. Inputs are n × D
//! row-major slices; the result is written into `z` (M × D, M = `z.len() / D`), which is the
//! Z block of an SVGP parameter buffer. Distances are computed on the real parts in `f64`.

use crate::batch::BatchSource;
use crate::error::{check_finite, Error, Result};
use crate::layout::Size;
use crate::linalg::rows_of;
use crate::rng::{below, uniform01};
use crate::Scalar;
use rand_core::Rng;

/// Validates (x, d, z) and returns (n, m).
fn shapes<S: Scalar>(x: &[S], d: usize, z: &[S]) -> Result<(usize, usize)> {
    let n = rows_of(x, d, "inputs x (n × D)")?;
    if z.is_empty() {
        return Err(Error::DimensionMismatch { what: "inducing inputs z (M × D)", expected: d, found: 0 });
    }
    let m = rows_of(z, d, "inducing inputs z (M × D)")?;
    if n < m {
        return Err(Error::DimensionMismatch { what: "data points (at least M)", expected: m, found: n });
    }
    if let Some(index) = x.iter().position(|v| !v.re().is_finite()) {
        return Err(Error::NonFinite { what: "inputs x", index, value: x[index].re() });
    }
    Ok((n, m))
}

/// Squared distance between two rows, on real parts.
#[inline]
fn dist2<S: Scalar>(a: &[S], b: &[S]) -> f64 {
    a.iter().zip(b).map(|(&u, &v)| (u.re() - v.re()) * (u.re() - v.re())).sum()
}

/// M distinct rows of `x` chosen uniformly at random, written to `z` in data order.
///
/// Selection sampling (Knuth's Algorithm S): row i is kept with probability
/// (M − kept)/(n − i), drawn exactly in integers, so every M-subset is equally likely; one
/// pass, no n-long buffer.
///
/// ```
/// use svgp::inducing::random_subset;
/// use svgp::rng::Xoshiro256;
/// let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]; // six 1-D points
/// let mut z = [0.0; 3];
/// random_subset(&x, 1, &mut Xoshiro256::from_u64(0), &mut z)?;
/// assert!(z[0] < z[1] && z[1] < z[2]); // distinct rows, in data order
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn random_subset<S: Scalar, R: Rng + ?Sized>(x: &[S], d: usize, rng: &mut R, z: &mut [S]) -> Result<()> {
    let (n, m) = shapes(x, d, z)?;
    let mut kept = 0;
    for (i, row) in x.chunks_exact(d).enumerate() {
        if kept == m {
            break;
        }
        if (below(rng, (n - i) as u64) as usize) < m - kept {
            z[kept * d..(kept + 1) * d].copy_from_slice(row);
            kept += 1;
        }
    }
    Ok(())
}

/// M points drawn uniformly without replacement from the first `limit` points of a stream
/// (reservoir sampling, Vitter's Algorithm R), for data that never sit in one slice. Point t
/// (0-based) replaces a uniformly chosen reservoir slot with probability M/(t + 1), so after
/// the stream every M-subset of the points seen is equally likely.
///
/// `xb` and `yb` are the batch buffers the source fills (`xb.len() == yb.len()·D`). Returns the
/// number of points read; fewer than M is an error.
///
/// ```
/// use svgp::batch::IterSource;
/// use svgp::inducing::reservoir;
/// use svgp::rng::Xoshiro256;
/// let mut src = IterSource::new(1, (0..100).map(|i| ([i as f64], 0.0)));
/// let (mut z, mut xb, mut yb) = ([0.0; 4], [0.0; 16], [0.0; 16]);
/// let read = reservoir(&mut src, 1, usize::MAX, &mut Xoshiro256::from_u64(1), &mut z, &mut xb, &mut yb)?;
/// assert_eq!(read, 100);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn reservoir<S: Scalar, Src: BatchSource<S>, R: Rng + ?Sized>(
    source: &mut Src,
    d: usize,
    limit: usize,
    rng: &mut R,
    z: &mut [S],
    xb: &mut [S],
    yb: &mut [S],
) -> Result<usize> {
    if d == 0 || source.input_dim() != d {
        return Err(Error::DimensionMismatch {
            what: "source input dimension",
            expected: d,
            found: source.input_dim(),
        });
    }
    if z.is_empty() || !z.len().is_multiple_of(d) {
        return Err(Error::DimensionMismatch {
            what: "inducing inputs z (M × D)",
            expected: d,
            found: z.len(),
        });
    }
    if yb.is_empty() {
        return Err(Error::BufferTooSmall { what: "reservoir batch buffer", needed: 1, found: 0 });
    }
    let m = z.len() / d;
    let mut t = 0usize;
    while t < limit {
        let want = (limit - t).min(yb.len());
        let b = source.next_batch(&mut xb[..want * d], &mut yb[..want])?;
        if b == 0 {
            break;
        }
        for row in xb[..b * d].chunks_exact(d) {
            if let Some(index) = row.iter().position(|v| !v.re().is_finite()) {
                return Err(Error::NonFinite {
                    what: "streamed inputs x",
                    index: t * d + index,
                    value: row[index].re(),
                });
            }
            let slot = if t < m { t } else { below(rng, t as u64 + 1) as usize };
            if slot < m {
                z[slot * d..(slot + 1) * d].copy_from_slice(row);
            }
            t += 1;
        }
    }
    if t < m {
        return Err(Error::DimensionMismatch {
            what: "points in the stream (at least M)",
            expected: m,
            found: t,
        });
    }
    Ok(t)
}

/// Workspace length (in `f64`) for [`kmeans_pp`] on `n` points.
pub fn kmeans_pp_workspace_len(n: usize) -> Result<usize> {
    Ok(kmeans_ws(n)?.total())
}

crate::parts! {
    /// [`kmeans_pp`]'s workspace: each point's squared distance to its nearest centre.
    "k-means++ workspace": struct KmeansWs { dist }
}

fn kmeans_ws(n: usize) -> Result<KmeansWs<usize>> {
    KmeansWs { dist: Size::of(n) }.resolve()
}

/// k-means++ seeding (Arthur & Vassilvitskii 2007): the first centre is a uniform row, each
/// next one a row drawn with probability ∝ its squared distance to the nearest centre so far.
///
/// `ws` holds those distances (length [`kmeans_pp_workspace_len`]`(n)`). Cost O(n·M·D). If
/// the data have fewer than M distinct rows, the remaining centres repeat rows (the prior's
/// jitter then keeps K_zz factorable).
///
/// ```
/// use svgp::inducing::kmeans_pp;
/// use svgp::rng::Xoshiro256;
/// // Two tight clusters far apart: two centres land one in each.
/// let x = [0.0_f64, 0.01, 0.02, 10.0, 10.01, 10.02];
/// let (mut z, mut ws) = ([0.0; 2], [0.0; 6]);
/// kmeans_pp(&x, 1, &mut Xoshiro256::from_u64(5), &mut z, &mut ws)?;
/// assert!((z[0] - z[1]).abs() > 9.0);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn kmeans_pp<S: Scalar, R: Rng + ?Sized>(
    x: &[S],
    d: usize,
    rng: &mut R,
    z: &mut [S],
    ws: &mut [f64],
) -> Result<()> {
    let (n, m) = shapes(x, d, z)?;
    let KmeansWs { dist } = kmeans_ws(n)?.carve(ws)?;
    let first = below(rng, n as u64) as usize;
    z[..d].copy_from_slice(&x[first * d..(first + 1) * d]);
    for (di, row) in dist.iter_mut().zip(x.chunks_exact(d)) {
        *di = dist2(row, &z[..d]);
    }
    for c in 1..m {
        let total: f64 = dist.iter().sum();
        let pick = if total > 0.0 {
            // Inverse-CDF draw over the running sum; the last positive weight catches the
            // round-off when u·total lands past the accumulated sum.
            let u = uniform01(rng) * total;
            let mut acc = 0.0;
            let mut pick = None;
            let mut last_pos = 0;
            for (i, &w) in dist.iter().enumerate() {
                if w > 0.0 {
                    last_pos = i;
                    acc += w;
                    if acc > u {
                        pick = Some(i);
                        break;
                    }
                }
            }
            pick.unwrap_or(last_pos)
        } else {
            below(rng, n as u64) as usize
        };
        let centre = &mut z[c * d..(c + 1) * d];
        centre.copy_from_slice(&x[pick * d..(pick + 1) * d]);
        for (di, row) in dist.iter_mut().zip(x.chunks_exact(d)) {
            let e = dist2(row, centre);
            if e < *di {
                *di = e;
            }
        }
    }
    Ok(())
}

crate::parts! {
    /// [`lloyd`]'s workspace: the coordinate sums (M × D) and the point counts (M) of the clusters.
    "Lloyd workspace": struct LloydWs { sums, counts }
}

fn lloyd_ws(m: usize, d: usize) -> Result<LloydWs<usize>> {
    LloydWs { sums: Size::of(m) * d, counts: Size::of(m) }.resolve()
}

/// Workspace length (in `f64`) for [`lloyd`] with `m` centres in `d` dimensions.
pub fn lloyd_workspace_len(m: usize, d: usize) -> Result<usize> {
    Ok(lloyd_ws(m, d)?.total())
}

/// Up to `iters` Lloyd iterations from the centres in `z` (e.g. [`kmeans_pp`]'s): assign each
/// row to its nearest centre, move each centre to its cluster's mean (a centre left without
/// points stays where it is). Stops early when no centre moves. Returns the within-cluster sum
/// of squares of the final assignment (before the last move), which never increases from one
/// iteration to the next; with `iters` = 0, that of the given centres.
///
/// The centres stay finite: the starting centres must be finite (a NaN centre attracts no
/// point and would be returned as it came), and a cluster whose coordinate sum overflows
/// (data near the float range's edge) takes its mean from the scaled points instead.
///
/// ```
/// use svgp::inducing::lloyd;
/// let x = [0.0, 1.0, 10.0, 11.0];
/// let (mut z, mut ws) = ([0.0, 11.0], [0.0; 4]);
/// lloyd(&x, 1, &mut z, 10, &mut ws)?;
/// assert_eq!(z, [0.5, 10.5]);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn lloyd<S: Scalar>(x: &[S], d: usize, z: &mut [S], iters: usize, ws: &mut [f64]) -> Result<f64> {
    let (_, m) = shapes(x, d, z)?;
    check_finite("initial centres z", z)?;
    let LloydWs { sums, counts } = lloyd_ws(m, d)?.carve(ws)?;
    if iters == 0 {
        return Ok(x.chunks_exact(d).map(|row| nearest(row, z, d).1).sum());
    }
    let mut wcss = f64::NAN;
    for _ in 0..iters {
        sums.iter_mut().for_each(|v| *v = 0.0);
        counts.iter_mut().for_each(|v| *v = 0.0);
        wcss = 0.0;
        for row in x.chunks_exact(d) {
            let (best, best_d) = nearest(row, z, d);
            wcss += best_d;
            counts[best] += 1.0;
            for (s, v) in sums[best * d..(best + 1) * d].iter_mut().zip(row) {
                *s += v.re();
            }
        }
        // A cluster whose coordinate sums overflowed gets its mean from the scaled points
        // (before any centre moves, so the assignment is this pass's); its count becomes 1.
        for c in 0..m {
            if counts[c] > 0.0 && sums[c * d..(c + 1) * d].iter().any(|s| !s.is_finite()) {
                scaled_mean(x, z, d, c, counts[c], &mut sums[c * d..(c + 1) * d]);
                counts[c] = 1.0;
            }
        }
        let mut moved = false;
        for c in 0..m {
            if counts[c] > 0.0 {
                for k in 0..d {
                    let new = S::from_f64(sums[c * d + k] / counts[c]);
                    if new != z[c * d + k] {
                        moved = true;
                        z[c * d + k] = new;
                    }
                }
            }
        }
        if !moved {
            break;
        }
    }
    Ok(wcss)
}

/// The nearest centre of `row` among the rows of `z` and its squared distance (the first
/// centre on ties; ∞ only if every distance overflows).
fn nearest<S: Scalar>(row: &[S], z: &[S], d: usize) -> (usize, f64) {
    let (mut best, mut best_d) = (0, f64::INFINITY);
    for (c, centre) in z.chunks_exact(d).enumerate() {
        let e = dist2(row, centre);
        if e < best_d {
            (best, best_d) = (c, e);
        }
    }
    (best, best_d)
}

/// Cluster `c`'s mean as Σ(x/count) over its points (those whose nearest centre is `c`), into
/// `mean`: for a cluster whose plain coordinate sums overflowed. Each term is at most
/// max|x|/count, so every partial sum stays finite.
#[cold]
fn scaled_mean<S: Scalar>(x: &[S], z: &[S], d: usize, c: usize, count: f64, mean: &mut [f64]) {
    mean.iter_mut().for_each(|s| *s = 0.0);
    for row in x.chunks_exact(d).filter(|row| nearest(row, z, d).0 == c) {
        for (s, v) in mean.iter_mut().zip(row.iter()) {
            *s += v.re() / count;
        }
    }
}
