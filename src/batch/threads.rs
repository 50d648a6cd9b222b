//! One batch's ELBO and gradient split across threads (`std::thread::scope`, no dependency).
//!
//! # The seam
//!
//! The ELBO's data term is a sum over points, so the gradient of a batch is the sum of its
//! chunks' gradients. Each thread runs the public [`Svgp::elbo_and_grad`] on its chunk of
//! ⌈b/T⌉ points with the batch's scale and its own workspace and gradient buffer; the first
//! chunk also carries the KL; the calling thread sums. This is exact (up to summation order).
//!
//! Its cost: every thread recomputes the K_zz part — Ψ_z, the M × M Cholesky, B = L_z⁻¹Ψ_z and
//! their reverse sweep, O(M²·J + M³ + M·(feature map)) — which a deeper seam inside
//! `gp::elbo` would share (forward the shared part once, run the per-column work on Ā from A
//! onwards per thread, sum the B̄/Ψ̄_z contributions, then one shared reverse through the
//! Cholesky). For the flagship shapes (M = 30, J = 256) that part is about M/b of a chunk's
//! N·M·J products, a few percent at b = 1000: `benches/benches/minibatch.rs` measured one
//! half-batch at 4.1 ms against 7.7 ms for the whole B = 1000 batch (so 1.86× is the ceiling
//! on two idle cores) and 4.8 ms on 2 threads (1.60×, machine shared). At B = 100 the thread
//! spawns and the shared part dominate and 2 threads were slower (2.9 vs 1.3 ms): split only
//! large batches.

use crate::error::{check_buf, check_len, Result};
use crate::gp::{ElboOptions, Prior, Svgp};
use crate::layout::Size;
use crate::Scalar;

/// Points per chunk and number of chunks for `b` points on `threads` threads.
fn split(b: usize, threads: usize) -> (usize, usize) {
    let t = threads.clamp(1, b.max(1));
    let chunk = b.div_ceil(t).max(1);
    (chunk, b.div_ceil(chunk).max(1))
}

/// Workspace length for [`elbo_and_grad_threaded`] on `b` points and `threads` threads.
pub fn threaded_workspace_len<P: Prior>(model: &Svgp<P>, b: usize, threads: usize) -> Result<usize> {
    let (chunk, t) = split(b, threads);
    ((Size::of(model.workspace_len(chunk)?) + model.n_params()) * t).get("threaded ELBO workspace")
}

/// [`Svgp::elbo_and_grad`] on `y.len()` points split into up to `threads` chunks, one per
/// thread. Same result up to summation order; `ws` needs
/// [`threaded_workspace_len`]`(model, y.len(), threads)` elements.
///
/// ```
/// use svgp::batch::{elbo_and_grad_threaded, threaded_workspace_len};
/// use svgp::gp::{Closed, ElboOptions, Svgp};
/// use svgp::kernel::Rbf;
/// let x: Vec<f64> = (0..40).map(|i| i as f64 / 20.0 - 1.0).collect();
/// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
/// let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.0, 0.5], 0.01, &mut p)?;
/// let opts = ElboOptions::default();
/// let (mut g1, mut g2) = (vec![0.0; p.len()], vec![0.0; p.len()]);
/// let mut ws = vec![0.0; threaded_workspace_len(&model, 40, 2)?];
/// let par = elbo_and_grad_threaded(&model, &p, &x, &y, opts, 2, &mut g2, &mut ws)?;
/// let mut ws1 = vec![0.0; model.workspace_len(40)?];
/// let one = model.elbo_and_grad(&p, &x, &y, opts, &mut g1, &mut ws1)?;
/// assert!((par - one).abs() < 1e-10 * one.abs());
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn elbo_and_grad_threaded<P: Prior + Sync, S: Scalar>(
    model: &Svgp<P>,
    params: &[S],
    x: &[S],
    y: &[S],
    opts: ElboOptions,
    threads: usize,
    grad: &mut [S],
    ws: &mut [S],
) -> Result<S> {
    let (d, np, b) = (model.input_dim(), model.n_params(), y.len());
    check_len("inputs x (n × D)", b * d, x.len())?;
    check_len("gradient buffer", np, grad.len())?;
    let (chunk, t) = split(b, threads);
    if t <= 1 {
        return model.elbo_and_grad(params, x, y, opts, grad, ws);
    }
    check_buf("threaded ELBO workspace", threaded_workspace_len(model, b, threads)?, ws.len())?;
    let per = model.workspace_len(chunk)? + np;
    let (head_buf, rest) = ws[..t * per].split_at_mut(per);
    let parts = rest.chunks_exact_mut(per);
    let results = std::thread::scope(|scope| {
        let handles: std::vec::Vec<_> = parts
            .zip(x.chunks(chunk * d).zip(y.chunks(chunk)).skip(1))
            .map(|(buf, (xc, yc))| {
                scope.spawn(move || {
                    let (g, w) = buf.split_at_mut(np);
                    let o = ElboOptions { include_kl: false, ..opts };
                    model.elbo_and_grad(params, xc, yc, o, g, w)
                })
            })
            .collect();
        // The calling thread takes the first chunk (and the KL) meanwhile.
        let w = &mut head_buf[np..];
        let head = model.elbo_and_grad(params, &x[..chunk * d], &y[..chunk], opts, grad, w);
        let tails: std::vec::Vec<Result<S>> =
            handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect();
        (head, tails)
    });
    let (head, tails) = results;
    let mut elbo = head?;
    for (k, r) in tails.into_iter().enumerate() {
        elbo += r?;
        let g = &ws[(k + 1) * per..(k + 1) * per + np];
        for (a, &c) in grad.iter_mut().zip(g) {
            *a += c;
        }
    }
    Ok(elbo)
}
