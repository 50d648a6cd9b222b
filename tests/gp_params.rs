//! The typed parameter views name the documented flat layout, part by part, and check what they
//! are given: `[prior | Z (M × D) | m (M) | L packed row by row | ln σ²_noise]`, the deep prior as
//! `[ln σ² | MLP | W (H × J) | b (J) | ln ℓ]` (the JAX fixtures' order), the packed triangle at
//! i(i+1)/2 + j.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use svgp::features::{DeepRff, FeatureMap};
use svgp::gp::{Closed, Features, Prior, Svgp, SvgpParts};
use svgp::kernel::{Kernel, RbfArd};
use svgp::layout::Size;
use svgp::linalg::{MatMut, MatRef, PackedLower};
use svgp::nn::{Activation, Mlp};
use svgp::Error;

#[test]
fn views_name_the_documented_layout() {
    let map = DeepRff::new(Mlp::equinox(2, 3, 1, 4, Activation::Tanh).unwrap(), 5).unwrap();
    let (m, d) = (3, 2);
    let model = Svgp::new(Features(map), m, 1e-4).unwrap();
    let mlp = map.mlp().n_params();
    let prior = 1 + mlp + 4 * 5 + 5 + 1;
    assert_eq!(model.n_params(), prior + m * d + m + m * (m + 1) / 2 + 1);
    // Every entry holds its own index, so each view must see exactly its offsets.
    let flat: Vec<f64> = (0..model.n_params()).map(|i| i as f64).collect();
    let p = model.params(&flat).unwrap();
    assert_eq!(p.prior.ln_variance, &[0.0]);
    assert_eq!((p.prior.map.mlp[0], p.prior.map.mlp.len()), (1.0, mlp));
    assert_eq!((p.prior.map.w[0], p.prior.map.w.len()), ((1 + mlp) as f64, 20));
    assert_eq!((p.prior.map.b[0], p.prior.map.b.len()), ((1 + mlp + 20) as f64, 5));
    assert_eq!(p.prior.map.ln_lengthscale, &[(prior - 1) as f64]);
    assert_eq!((p.z[0], p.z.len()), (prior as f64, m * d));
    assert_eq!((p.mean[0], p.mean.len()), ((prior + m * d) as f64, m));
    let l0 = prior + m * d + m;
    for i in 0..m {
        for j in 0..=i {
            assert_eq!(p.scale_tril.get(i, j), (l0 + i * (i + 1) / 2 + j) as f64);
        }
        assert_eq!(p.scale_tril.row(i).len(), i + 1);
    }
    assert_eq!(p.likelihood.ln_noise_variance(), (model.n_params() - 1) as f64);
    // The raw parts are the same split.
    let SvgpParts { prior: pr, z, mean, scale_tril, likelihood } = model.parts(&flat).unwrap();
    assert_eq!((pr.len(), z.len(), mean.len(), scale_tril.len(), likelihood.len()), (prior, 6, 3, 6, 1));
    assert_eq!(model.layout().total(), model.n_params());
    // A buffer of another length is refused by every view.
    assert!(matches!(model.params(&flat[1..]), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(map.view(&flat[..3]), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(RbfArd::new(2).view(&flat[..2]), Err(Error::DimensionMismatch { .. })));
}

#[test]
fn mutable_views_write_by_name_and_validate() {
    let model = Svgp::new(Closed(RbfArd::new(2)), 2, 1e-6).unwrap();
    let mut flat = vec![0.0_f64; model.n_params()];
    {
        let mut p = model.params_mut(&mut flat).unwrap();
        p.prior.set_variance(2.0).unwrap();
        p.prior.set_lengthscales(0.5).unwrap();
        p.prior.ln_lengthscales_mut()[1] = 0.0;
        p.z.copy_from_slice(&[-1.0, 1.0, 1.0, -1.0]);
        p.scale_tril.set_identity();
        p.likelihood.set_noise_variance(0.25).unwrap();
        // Natural values must be finite and positive: nothing is written otherwise.
        assert!(matches!(p.prior.set_variance(0.0), Err(Error::InvalidParameter { .. })));
        assert!(matches!(p.prior.set_lengthscales(f64::NAN), Err(Error::InvalidParameter { .. })));
        assert!(matches!(p.likelihood.set_noise_variance(-1.0), Err(Error::InvalidParameter { .. })));
    }
    let p = model.params(&flat).unwrap();
    assert!((p.prior.variance() - 2.0).abs() < 1e-15);
    assert!((p.prior.lengthscale(0) - 0.5).abs() < 1e-15 && p.prior.lengthscale(1) == 1.0);
    assert_eq!(p.scale_tril.as_slice(), &[1.0, 0.0, 1.0]);
    assert!((p.likelihood.noise_std() - 0.5).abs() < 1e-15);
    model.prior().check_params(p.prior.as_slice()).unwrap();
}

#[test]
fn packed_lower_round_trips_and_checks_its_size() {
    let n = 4;
    let a: Vec<f64> = (0..n * n).map(|k| k as f64).collect();
    let mut packed = PackedLower::new(n, vec![0.0; PackedLower::len_for(n).unwrap()]).unwrap();
    packed.pack_from(MatRef::new(n, n, &a).unwrap()).unwrap();
    let mut full = vec![-1.0; n * n];
    packed.unpack_into(MatMut::new(n, n, &mut full).unwrap()).unwrap();
    for i in 0..n {
        for j in 0..n {
            assert_eq!(full[i * n + j], if j <= i { a[i * n + j] } else { 0.0 });
            if j <= i {
                assert_eq!(packed.as_slice()[PackedLower::index(i, j)], a[i * n + j]);
            }
        }
    }
    assert!(matches!(PackedLower::new(3, vec![0.0; 5]), Err(Error::DimensionMismatch { .. })));
    // n(n+1)/2 for the largest n whose triangle fits, and an overflow beyond it.
    let big = 1usize << (usize::BITS / 2);
    assert_eq!(PackedLower::len_for(big).unwrap(), big / 2 * (big + 1));
    assert!(matches!(PackedLower::len_for(usize::MAX), Err(Error::SizeOverflow { .. })));
}

svgp::parts! {
    /// A made-up routine's scratch.
    "test workspace": struct Scratch { a, b, c }
}

#[test]
fn one_declaration_gives_length_and_carving() {
    let lens = Scratch { a: Size::of(2) * 3, b: Size::of(0), c: Size::of(4) }.resolve().unwrap();
    assert_eq!(lens.total(), 10);
    let mut ws: Vec<u32> = (0..12).collect();
    let Scratch { a, b, c } = lens.carve(&mut ws[..]).unwrap();
    assert_eq!((a.len(), b.len(), c.len(), c[0]), (6, 0, 4, 6));
    a[0] = 99;
    assert_eq!(ws[0], 99);
    let short = lens.carve(&ws[..9]);
    assert_eq!(short.err(), Some(Error::BufferTooSmall { what: "test workspace", needed: 10, found: 9 }));
    assert!(matches!(lens.carve_exact(&ws[..]), Err(Error::DimensionMismatch { .. })));
    let huge = Scratch { a: Size::of(usize::MAX), b: Size::of(1), c: Size::of(0) };
    assert_eq!(huge.resolve(), Err(Error::SizeOverflow { what: "test workspace" }));
    let product = Scratch { a: Size::of(1 << 40) * (1 << 40), b: Size::of(1), c: Size::of(1) };
    assert_eq!(product.resolve(), Err(Error::SizeOverflow { what: "test workspace" }));
}

#[test]
fn the_gradient_has_the_same_named_parts() {
    let map = DeepRff::new(Mlp::equinox(1, 4, 1, 2, Activation::Tanh).unwrap(), 8).unwrap();
    let model = Svgp::new(Features(map), 2, 1e-4).unwrap();
    let mut prior = vec![0.0_f64; model.prior().n_params()];
    map.init(&mut svgp::rng::Xoshiro256::from_u64(2), 0.5, model.prior().parts(&mut prior[..]).unwrap().map)
        .unwrap();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&prior, &[-0.5, 0.5], 0.1, &mut p).unwrap();
    let (x, y) = ([-0.9, -0.2, 0.4, 0.8], [0.3, -0.1, 0.6, 0.2]);
    let mut ws = vec![0.0; model.workspace_len(4).unwrap()];
    let mut grad = vec![0.0; model.n_params()];
    model.elbo_and_grad(&p, &x, &y, Default::default(), &mut grad, &mut ws).unwrap();
    let g = model.params(&grad).unwrap();
    // Nudging the noise by its own gradient's sign raises the ELBO: the view names the right entry.
    let h = 1e-6 * g.likelihood.ln_noise_variance().signum();
    let e0 = model.elbo(&p, &x, &y, Default::default(), &mut ws).unwrap();
    *model.params_mut(&mut p).unwrap().likelihood.ln_noise_variance_mut() += h;
    let e1 = model.elbo(&p, &x, &y, Default::default(), &mut ws).unwrap();
    assert!(e1 > e0, "{e0} → {e1}");
    let fd = (e1 - e0) / h;
    assert!(
        (fd - g.likelihood.ln_noise_variance()).abs() < 1e-4 * (1.0 + fd.abs()),
        "{fd} vs {}",
        g.likelihood.ln_noise_variance()
    );
}
