//! Bad inputs to the training side give typed errors, never panics: empty data in every
//! training path, absurd sizes before any allocation, and a chunk that panics in the thread
//! team ([`Error::WorkerPanicked`], the same on any number of threads, the team still usable).
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

use core::ops::ControlFlow;
use svgp::batch::{
    accumulate_elbo_and_grad, accumulate_workspace_len, with_split_minibatch, FnSource, Minibatch,
    SliceSource,
};
use svgp::gp::{Closed, ElboOptions, Svgp};
use svgp::kernel::{Kernel, Rbf};
use svgp::objective::FullBatchElbo;
use svgp::optim::AdamConfig;
use svgp::parallel::{with_split_elbo, Split};
use svgp::rng::Xoshiro256;
use svgp::train::{FitOptions, Trainer};
use svgp::{Error, Scalar};

fn rbf() -> (Svgp<Closed<Rbf>>, Vec<f64>) {
    let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6).unwrap();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.0, 0.5], 0.01, &mut p).unwrap();
    (model, p)
}

fn is_empty_data_error<T: core::fmt::Debug>(r: &Result<T, Error>) -> bool {
    matches!(r, Err(Error::InvalidParameter { what, value }) if what.contains("≥ 1") && *value == 0.0)
}

#[test]
fn empty_data_is_a_typed_error_in_every_training_path() {
    let (model, p) = rbf();
    let (x, y): (&[f64], &[f64]) = (&[], &[]);
    let trainer = Trainer::new(AdamConfig::new(1e-2), FitOptions::new(3));
    for t in
        [trainer.clone(), trainer.clone().split(Split::new(1, 1)), trainer.clone().split(Split::new(1, 2))]
    {
        let r = t.fit_svgp(&model, &mut p.clone(), x, y, |_| ControlFlow::Continue(()));
        assert!(is_empty_data_error(&r), "{t:?}: {r:?}");
    }
    assert!(is_empty_data_error(&FullBatchElbo::alloc(&model, x, y)));
    for split in [Split::new(1, 1), Split::new(1, 2), Split::new(2, 2)] {
        let mut g = vec![0.0; p.len()];
        let r = with_split_elbo(&model, x, y, ElboOptions::default(), split, |e| e.elbo_and_grad(&p, &mut g));
        assert!(is_empty_data_error(&r), "{split:?}: {r:?}");
    }
    let mut g = vec![0.0; p.len()];
    let mut ws = vec![0.0; accumulate_workspace_len(&model, 4).unwrap()];
    assert!(is_empty_data_error(&accumulate_elbo_and_grad(&model, &p, x, y, 4, &mut g, &mut ws)));
    // Minibatches: N = 0 is refused, and a stream that gives no points is an error, split or not.
    assert!(Minibatch::new(0, 1).is_err());
    let mb = Minibatch::new(10, 4).unwrap();
    let ended = FnSource::new(1, |_: &mut [f64], _: &mut [f64]| -> svgp::Result<usize> { Ok(0) });
    let r = with_split_minibatch(model, mb, ended, Split::new(2, 2), |obj| obj.elbo_and_grad(&p, &mut g))
        .unwrap();
    assert!(
        matches!(r, Err(Error::DimensionMismatch { what: "points in the batch", found: 0, .. })),
        "{r:?}"
    );
}

#[test]
fn absurd_sizes_are_typed_errors_before_allocation() {
    let (model, _) = rbf();
    let overflow = |r: Result<usize, Error>| matches!(r, Err(Error::SizeOverflow { .. }));
    assert!(overflow(Minibatch::new(usize::MAX, usize::MAX / 2).unwrap().workspace_len(&model)));
    assert!(overflow(accumulate_workspace_len(&model, usize::MAX / 2)));
    assert!(overflow(model.workspace_len(usize::MAX / 8)));
    // A split minibatch allocates its team's buffers: the sizes are checked first.
    let src = FnSource::new(1, |_: &mut [f64], _: &mut [f64]| -> svgp::Result<usize> { Ok(0) });
    let r = with_split_minibatch(
        model,
        Minibatch::new(usize::MAX, usize::MAX / 2).unwrap(),
        src,
        Split::new(2, 2),
        |_| (),
    );
    assert!(matches!(r, Err(Error::SizeOverflow { .. })), "{r:?}");
    // n·D that would wrap around to the slice length is not taken for a match: the rows of x
    // are counted by division (linalg's one rows helper), so nothing wraps.
    let (x, y) = ([0.0_f64; 0], [0.0_f64; 2]);
    let r = SliceSource::new(&x, &y, usize::MAX / 2 + 1, Xoshiro256::from_u64(1));
    assert!(matches!(r, Err(Error::DimensionMismatch { expected: 2, found: 0, .. })), "{:?}", r.map(|_| ()));
}

/// RBF that panics on inputs above 0.5 when the log-variance is exactly 7 (a stand-in for a
/// user kernel with a bug that only some data and some parameters reach).
#[derive(Clone, Copy, Debug)]
struct Fragile;

impl Kernel for Fragile {
    type Params<C> = C;
    fn view<S: Scalar, C: svgp::layout::SliceRef<S>>(&self, raw: C) -> svgp::Result<C> {
        Ok(raw)
    }
    fn input_dim(&self) -> usize {
        1
    }
    fn n_params(&self) -> usize {
        2
    }
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        if params[0].re() == 7.0 && (x[0].re() > 0.5 || y[0].re() > 0.5) {
            panic!("a user kernel's bug");
        }
        Rbf::new(1).eval(params, x, y)
    }
}

#[test]
fn a_panicking_chunk_is_reported_as_that_chunk_on_any_number_of_threads() {
    let model = Svgp::new(Closed(Fragile), 3, 1e-6).unwrap();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.0, 0.25], 0.01, &mut p).unwrap();
    let mut bad = p.clone();
    bad[0] = 7.0;
    // 30 points on [−1, 0.9]: only the last of three chunks (inputs above 0.5) panics.
    let x: Vec<f64> = (0..30).map(|i| -1.0 + 0.0655 * i as f64).collect();
    let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
    let mut reference = None;
    for threads in [1, 2, 3] {
        let mut g = vec![0.0; p.len()];
        with_split_elbo(&model, &x, &y, ElboOptions::default(), Split::new(3, threads), |e| {
            let r = e.elbo_and_grad(&bad, &mut g);
            assert!(matches!(r, Err(Error::WorkerPanicked { chunk: 2 })), "{threads} threads: {r:?}");
            // The team is intact: good parameters give the same bits on every thread count.
            let ok = e.elbo_and_grad(&p, &mut g).unwrap();
            let got = (ok.to_bits(), g.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
            assert_eq!(reference.get_or_insert(got.clone()), &got, "{threads} threads");
        })
        .unwrap();
    }
    // Training stops with that error and keeps the last finite parameters.
    let mut q = bad.clone();
    let r = Trainer::new(AdamConfig::new(1e-2), FitOptions::new(5)).split(Split::new(3, 2)).fit_svgp(
        &model,
        &mut q,
        &x,
        &y,
        |_| ControlFlow::Continue(()),
    );
    assert!(matches!(r, Err(Error::WorkerPanicked { chunk: 2 })), "{r:?}");
    assert_eq!(q, bad);
}
