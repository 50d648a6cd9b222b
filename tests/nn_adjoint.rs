//! The MLP's reverse sweep and activation derivatives against forward-mode `Dual`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::oracle::{dual_gradient, D8 as D};
use common::random;
use svgp::nn::{Activation, Mlp};
use svgp::rng::Xoshiro256;

const ALL: [Activation; 5] =
    [Activation::Tanh, Activation::Relu, Activation::Gelu, Activation::Softplus, Activation::Sin];

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}]: reverse {g} vs dual {w}");
    }
}

#[test]
fn activation_derivatives_match_dual() {
    let mut rng = Xoshiro256::from_u64(1);
    for act in ALL {
        for a in random(&mut rng, 200, -4.0, 4.0) {
            let d = act.apply(D::variable(a, 0));
            let h = act.apply(a);
            assert!((d.re - h).abs() <= 1e-15 * (1.0 + h.abs()), "{act:?} value at {a}");
            let got = act.derivative(a, h);
            assert!(
                (got - d.eps[0]).abs() <= 1e-13 * (1.0 + got.abs()),
                "{act:?}'({a}): {got} vs {}",
                d.eps[0]
            );
        }
    }
}

/// L = Σ out ⊙ out_bar, differentiated by the reverse sweep and by chunked forward mode.
fn check_mlp(mlp: Mlp, n: usize, seed: u64) {
    let mut rng = Xoshiro256::from_u64(seed);
    let mut params = vec![0.0; mlp.n_params()];
    mlp.init(&mut rng, &mut params).unwrap();
    let x = random(&mut rng, n * mlp.input_dim(), -1.5, 1.5);
    let out_bar = random(&mut rng, n * mlp.output_dim(), -1.0, 1.0);

    let mut out = vec![0.0; n * mlp.output_dim()];
    let mut ws = vec![f64::NAN; mlp.workspace_len(n).unwrap()];
    mlp.forward(&params, &x, &mut out, &mut ws).unwrap();
    // Gradients are *added*: start from a known offset.
    let mut gp = vec![1.0; params.len()];
    let mut gx = vec![-2.0; x.len()];
    mlp.backward(&params, &x, &out_bar, &mut gp, Some(&mut gx), &mut ws).unwrap();
    gp.iter_mut().for_each(|g| *g -= 1.0);
    gx.iter_mut().for_each(|g| *g += 2.0);

    // Forward mode over params then inputs.
    let mut dws = vec![D::default(); mlp.workspace_len(n).unwrap()];
    let mut dout = vec![D::default(); out.len()];
    let vars: Vec<f64> = params.iter().chain(&x).copied().collect();
    let (_, want) = dual_gradient(
        |v| {
            let (dp, dx) = v.split_at(params.len());
            mlp.forward(dp, dx, &mut dout, &mut dws).unwrap();
            let loss: D = dout.iter().zip(&out_bar).map(|(o, &b)| *o * b).sum();
            for (o, &r) in dout.iter().zip(&out) {
                assert!((o.re - r).abs() <= 1e-14 * (1.0 + r.abs()), "dual forward value differs");
            }
            loss
        },
        &vars,
    );
    let what = format!("{:?} {:?}", mlp.widths(), mlp.activation());
    assert_close(&format!("{what} dparams"), &gp, &want[..params.len()], 1e-10);
    assert_close(&format!("{what} dx"), &gx, &want[params.len()..], 1e-10);
}

#[test]
fn mlp_backward_matches_dual_for_every_activation() {
    for (i, act) in ALL.into_iter().enumerate() {
        check_mlp(Mlp::new(&[3, 5, 4, 2], act).unwrap(), 6, 10 + i as u64);
    }
}

#[test]
fn mlp_backward_matches_dual_for_other_shapes() {
    check_mlp(Mlp::new(&[2, 3], Activation::Tanh).unwrap(), 4, 20); // one linear layer
    check_mlp(Mlp::new(&[1, 6, 2, 7, 1], Activation::Gelu).unwrap(), 5, 21);
    check_mlp(Mlp::equinox(2, 4, 2, 3, Activation::Tanh).unwrap(), 1, 22);
}

#[test]
fn backward_does_not_clobber_the_forward_state() {
    let mlp = Mlp::new(&[2, 5, 5, 3], Activation::Softplus).unwrap();
    let n = 4;
    let mut rng = Xoshiro256::from_u64(3);
    let mut params = vec![0.0; mlp.n_params()];
    mlp.init(&mut rng, &mut params).unwrap();
    let x = random(&mut rng, n * 2, -1.0, 1.0);
    let ob = random(&mut rng, n * 3, -1.0, 1.0);
    let mut out = vec![0.0; n * 3];
    let mut ws = vec![0.0; mlp.workspace_len(n).unwrap()];
    mlp.forward(&params, &x, &mut out, &mut ws).unwrap();
    let mut g1 = vec![0.0; params.len()];
    mlp.backward(&params, &x, &ob, &mut g1, None, &mut ws).unwrap();
    let mut g2 = vec![0.0; params.len()];
    mlp.backward(&params, &x, &ob, &mut g2, None, &mut ws).unwrap();
    assert_eq!(g1, g2);
}

#[test]
fn init_is_reproducible_and_within_equinox_bounds() {
    let mlp = Mlp::equinox(2, 32, 2, 8, Activation::Tanh).unwrap();
    let draw = |seed| {
        let mut p = vec![0.0_f64; mlp.n_params()];
        mlp.init(&mut Xoshiro256::from_u64(seed), &mut p).unwrap();
        p
    };
    let (a, b, c) = (draw(5), draw(5), draw(6));
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Layer by layer: every entry within ±1/√fan_in, and the extremes come close to it.
    let mut off = 0;
    for l in 0..mlp.n_layers() {
        let (fi, fo) = (mlp.widths()[l], mlp.widths()[l + 1]);
        let lim = 1.0 / (fi as f64).sqrt();
        let layer = &a[off..off + (fi + 1) * fo];
        let max = layer.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(max <= lim && max > 0.7 * lim, "layer {l}: max |p| = {max}, limit {lim}");
        off += layer.len();
    }
    assert_eq!(off, a.len());
}

#[test]
fn shape_and_buffer_errors() {
    use svgp::Error;
    assert!(matches!(Mlp::new(&[3], Activation::Tanh), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Mlp::new(&[3, 0, 2], Activation::Tanh), Err(Error::InvalidParameter { .. })));
    assert!(Mlp::new(&[1; 10], Activation::Tanh).is_err());
    let mlp = Mlp::new(&[2, 3, 1], Activation::Tanh).unwrap();
    let p = vec![0.0; mlp.n_params()];
    let mut out = [0.0; 2];
    let mut ws = vec![0.0; mlp.workspace_len(2).unwrap()];
    assert!(matches!(mlp.forward(&p, &[0.0; 3], &mut out, &mut ws), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(mlp.forward(&p, &[0.0; 4], &mut out, &mut ws[..1]), Err(Error::BufferTooSmall { .. })));
    assert!(matches!(
        mlp.forward(&p[..1], &[0.0; 4], &mut out, &mut ws),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(mlp.forward(&p, &[0.0; 4], &mut out, &mut ws).is_ok());
}

mod random_shapes {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        /// Any depth (1–5 linear layers), widths 1–6, any activation, batch 1–5.
        #[test]
        fn mlp_backward_matches_dual(
            widths in proptest::collection::vec(1usize..7, 2..7),
            act in 0usize..5,
            n in 1usize..6,
            seed in any::<u64>(),
        ) {
            check_mlp(Mlp::new(&widths, ALL[act]).unwrap(), n, seed);
        }
    }
}
