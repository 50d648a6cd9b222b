//! Natural-gradient steps on the whitened guide (`gp::NaturalGuide`, `optim::NaturalGradient`):
//! the data term's gradients recovered from the ELBO's against Dual forward mode, the γ = 1 step
//! against the closed-form optimum (and the collapsed bound), a γ < 1 step against the
//! definition computed naively, γ halving, and the optimiser's "all or nothing" contract.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::gp::{data, prior_blocks, random_params, TestRff};
use common::linalg::naive_inverse;
use common::oracle::{dual_gradient, D8};
use svgp::gp::{Closed, ElboOptions, Features, NaturalGuide, Prior, Svgp};
use svgp::kernel::Rbf;
use svgp::linalg::{cholesky_in_place, Jitter, MatMut, PackedLower};
use svgp::optim::{Adam, AdamConfig, NaturalConfig, NaturalGradient, Optimizer};
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::{Error, Scalar};

const M: usize = 5;
const N: usize = 9;

fn rbf_model() -> Svgp<Closed<Rbf>> {
    Svgp::new(Closed(Rbf::new(2)), M, 1e-6).unwrap()
}

/// S = L·Lᵀ (M × M) from the packed L in `params`.
fn cov_of<P: Prior>(model: &Svgp<P>, params: &[f64]) -> Vec<f64> {
    let l = model.params(params).unwrap().scale_tril;
    let m = model.n_inducing();
    let mut s = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            s[i * m + j] = (0..=i.min(j)).map(|k| l.get(i, k) * l.get(j, k)).sum();
        }
    }
    s
}

/// (g_m, g_S) from the reverse sweep's ELBO gradient through `NaturalGuide::ell_gradients`.
fn recovered<P: Prior>(
    model: &Svgp<P>,
    p: &[f64],
    x: &[f64],
    y: &[f64],
    opts: ElboOptions,
) -> (Vec<f64>, Vec<f64>) {
    let m = model.n_inducing();
    let mut ws = vec![0.0; model.workspace_len(y.len()).unwrap()];
    let mut g = vec![0.0; p.len()];
    model.elbo_and_grad(p, x, y, opts, &mut g, &mut ws).unwrap();
    let (pv, gv) = (model.params(p).unwrap(), model.params(&g).unwrap());
    let guide = NaturalGuide::new(m).unwrap();
    let mut nws = vec![0.0; guide.workspace_len().unwrap()];
    let (mut gm, mut gs) = (gv.mean.to_vec(), vec![0.0; m * m]);
    guide.ell_gradients(pv.mean, pv.scale_tril, &mut gm, gv.scale_tril, &mut gs, &mut nws).unwrap();
    (gm, gs)
}

/// The oracle: g_m = ∂(s·ELL)/∂m by Dual on the ELBO without its KL, and g_S by Dual through
/// L(t) = chol(S + Σ t_ij E_ij) with the crate's Cholesky on duals (E_ij the symmetric unit
/// directions): ∂/∂t_ij = g_S,ij + g_S,ji.
fn oracle<P: Prior>(model: &Svgp<P>, p: &[f64], x: &[f64], y: &[f64], scale: f64) -> (Vec<f64>, Vec<f64>) {
    let m = model.n_inducing();
    let opts = ElboOptions { scale, include_kl: false };
    let xd: Vec<D8> = x.iter().map(|&v| D8::constant(v)).collect();
    let yd: Vec<D8> = y.iter().map(|&v| D8::constant(v)).collect();
    let mut ws = vec![D8::default(); model.workspace_len(y.len()).unwrap()];
    let mean = model.params(p).unwrap().mean.to_vec();
    let gm = dual_gradient(
        |md| {
            let mut pd: Vec<D8> = p.iter().map(|&v| D8::constant(v)).collect();
            model.params_mut(&mut pd).unwrap().mean.copy_from_slice(md);
            model.elbo(&pd, &xd, &yd, opts, &mut ws).unwrap()
        },
        &mean,
    )
    .1;
    let s = cov_of(model, p);
    let pairs: Vec<(usize, usize)> = (0..m).flat_map(|i| (0..=i).map(move |j| (i, j))).collect();
    let gt = dual_gradient(
        |t| {
            let mut sd: Vec<D8> = s.iter().map(|&v| D8::constant(v)).collect();
            for (k, &(i, j)) in pairs.iter().enumerate() {
                sd[i * m + j] += t[k];
                if i != j {
                    sd[j * m + i] += t[k];
                }
            }
            cholesky_in_place(MatMut::new(m, m, &mut sd).unwrap(), Jitter::Fixed(0.0)).unwrap();
            let mut pd: Vec<D8> = p.iter().map(|&v| D8::constant(v)).collect();
            PackedLower::new(m, &mut *model.params_mut(&mut pd).unwrap().scale_tril.as_mut_slice())
                .unwrap()
                .pack_from(svgp::linalg::MatRef::new(m, m, &sd).unwrap())
                .unwrap();
            model.elbo(&pd, &xd, &yd, opts, &mut ws).unwrap()
        },
        &vec![0.0; pairs.len()],
    )
    .1;
    let mut gs = vec![0.0; m * m];
    for (k, &(i, j)) in pairs.iter().enumerate() {
        let v = if i == j { gt[k] } else { 0.5 * gt[k] };
        gs[i * m + j] = v;
        gs[j * m + i] = v;
    }
    (gm, gs)
}

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0_f64, |s, v| s.max(v.abs())).max(1e-300);
    a.iter().zip(b).fold(0.0_f64, |s, (x, y)| s.max((x - y).abs())) / scale
}

#[test]
fn data_term_gradients_match_dual_for_any_sign_of_l() {
    // random_params draws L with diagonal entries of both signs; the oracle differentiates
    // through chol(S), whose diagonal is positive: ELL depends on S only, so both agree.
    let model = rbf_model();
    for (seed, opts) in [(1, ElboOptions::default()), (2, ElboOptions::minibatch(90, 9).unwrap())] {
        let mut rng = Xoshiro256::from_u64(seed);
        let (x, y) = data(&mut rng, N, 2);
        let p = random_params(&model, &Rbf::params(1.3, 0.6), &mut rng);
        assert!(model.params(&p).unwrap().scale_tril.diag(1) < 0.0, "the test wants a negative L_ii");
        let (gm, gs) = recovered(&model, &p, &x, &y, opts);
        let (om, os) = oracle(&model, &p, &x, &y, opts.scale);
        let (em, es) = (max_rel(&gm, &om), max_rel(&gs, &os));
        println!("seed {seed} scale {}: g_m {em:.2e}, g_S {es:.2e}", opts.scale);
        assert!(em <= 1e-9 && es <= 1e-9, "g_m {em:e}, g_S {es:e}");
        // And the Gaussian closed form: g_S = −(s/2σ²)·A·Aᵀ (no variance is clipped here).
        let (a, _) = prior_blocks(&model, &p, &x);
        let c = -opts.scale / (2.0 * 0.05);
        let closed: Vec<f64> = (0..M * M)
            .map(|k| c * (0..N).map(|i| a[(k / M) * N + i] * a[(k % M) * N + i]).sum::<f64>())
            .collect();
        assert!(max_rel(&gs, &closed) <= 1e-9);
    }
}

#[test]
fn data_term_gradients_match_dual_for_a_feature_kernel() {
    let map = TestRff { d: 2, j: 6 };
    let model = Svgp::new(Features(map), 4, 1e-4).unwrap();
    let mut rng = Xoshiro256::from_u64(8);
    let mut prior = vec![0.2_f64];
    prior.extend((0..map.d * map.j).map(|_| standard_normal(&mut rng)));
    prior.extend((0..map.j).map(|_| uniform(&mut rng, 0.0, std::f64::consts::TAU)));
    prior.push(0.5_f64.ln());
    let (x, y) = data(&mut rng, N, 2);
    let p = random_params(&model, &prior, &mut rng);
    let (gm, gs) = recovered(&model, &p, &x, &y, ElboOptions::default());
    let (om, os) = oracle(&model, &p, &x, &y, 1.0);
    assert!(max_rel(&gm, &om) <= 1e-9 && max_rel(&gs, &os) <= 1e-9);
}

/// The closed-form optimum, naively: Λ = I + s·A·Aᵀ/σ², S = Λ⁻¹ (Gauss–Jordan), m = S·s·A·y/σ².
fn naive_optimum(a: &[f64], y: &[f64], s_over_noise: f64) -> (Vec<f64>, Vec<f64>) {
    let n = y.len();
    let mut lam = vec![0.0; M * M];
    for i in 0..M {
        for j in 0..M {
            lam[i * M + j] = s_over_noise * (0..n).map(|t| a[i * n + t] * a[j * n + t]).sum::<f64>();
        }
        lam[i * M + i] += 1.0;
    }
    let cov = naive_inverse(&lam, M);
    let ay: Vec<f64> =
        (0..M).map(|i| s_over_noise * (0..n).map(|t| a[i * n + t] * y[t]).sum::<f64>()).collect();
    let mean = (0..M).map(|i| (0..M).map(|j| cov[i * M + j] * ay[j]).sum()).collect();
    (mean, cov)
}

/// One natural step of the optimiser (Adam on the rest at a tiny learning rate).
fn natural_step(model: &Svgp<Closed<Rbf>>, p: &mut [f64], x: &[f64], y: &[f64], cfg: NaturalConfig) -> f64 {
    let mut ws = vec![0.0; model.workspace_len(y.len()).unwrap()];
    let mut g = vec![0.0; p.len()];
    model.elbo_and_grad(p, x, y, ElboOptions::default(), &mut g, &mut ws).unwrap();
    g.iter_mut().for_each(|v| *v = -*v); // the loss gradient
    let (mut mu, mut nu) = (vec![0.0; p.len()], vec![0.0; p.len()]);
    let adam = Adam::new(AdamConfig::new(1e-12), &mut mu, &mut nu).unwrap();
    let mut nws = vec![0.0; NaturalGradient::<f64>::workspace_len(model).unwrap()];
    let mut opt = NaturalGradient::new(model, cfg, adam, &mut nws).unwrap();
    opt.step(p, &mut g).unwrap();
    opt.last_gamma()
}

#[test]
fn unit_step_lands_on_the_closed_form_optimum_and_the_collapsed_bound() {
    let model = rbf_model();
    for seed in 0..3 {
        let mut rng = Xoshiro256::from_u64(20 + seed);
        let (x, y) = data(&mut rng, N, 2);
        let mut p = random_params(&model, &Rbf::params(1.1, 0.5), &mut rng);
        let (a, _) = prior_blocks(&model, &p, &x);
        let (mean, cov) = naive_optimum(&a, &y, 1.0 / 0.05);
        let guide_grad_max = |p: &[f64]| {
            let mut ws = vec![0.0; model.workspace_len(N).unwrap()];
            let mut g = vec![0.0; p.len()];
            model.elbo_and_grad(p, &x, &y, ElboOptions::default(), &mut g, &mut ws).unwrap();
            let gv = model.params(&g).unwrap();
            gv.mean.iter().chain(gv.scale_tril.as_slice()).fold(0.0_f64, |s, v| s.max(v.abs()))
        };
        let g_start = guide_grad_max(&p);
        assert_eq!(natural_step(&model, &mut p, &x, &y, NaturalConfig::new(1.0)), 1.0);
        let (em, es) = (max_rel(model.params(&p).unwrap().mean, &mean), max_rel(&cov_of(&model, &p), &cov));
        println!("seed {seed}: mean {em:.2e}, covariance {es:.2e}");
        assert!(em <= 1e-10 && es <= 1e-10, "mean {em:e}, covariance {es:e}");
        // The ELBO there equals the collapsed bound, and the guide's gradient vanishes.
        let mut ws = vec![0.0; model.workspace_len(N).unwrap()];
        let elbo = model.elbo(&p, &x, &y, ElboOptions::default(), &mut ws).unwrap();
        let mut cws = vec![0.0; model.collapsed_workspace_len(N).unwrap()];
        let bound = model.collapsed_elbo(&p, &x, &y, &mut cws).unwrap();
        assert!((elbo - bound).abs() <= 1e-12 * bound.abs(), "ELBO {elbo} vs collapsed {bound}");
        // (Nine orders of magnitude below its size at the start: m̄ = β·A(y − Aᵀm) − m cancels
        // terms up to ‖B‖·‖m‖ ≈ 10³ here, so rounding leaves ~1e-10.)
        let g_end = guide_grad_max(&p);
        println!("guide gradient {g_end:.2e} at the optimum, {g_start:.2e} at the start");
        assert!(g_end <= 1e-9 * g_start, "guide gradient at the optimum: {g_end:e} (start {g_start:e})");
        // The optimiser wrote a positive diagonal, whatever the signs it started from.
        assert!((0..M).all(|i| model.params(&p).unwrap().scale_tril.diag(i) > 0.0));
    }
}

#[test]
fn partial_step_follows_the_definition() {
    // θ' = (1 − γ)·θ + γ·(θ_prior + ∂ELL/∂η), computed naively with Gauss–Jordan inverses.
    let model = rbf_model();
    let mut rng = Xoshiro256::from_u64(31);
    let (x, y) = data(&mut rng, N, 2);
    let mut p = random_params(&model, &Rbf::params(0.9, 0.7), &mut rng);
    let (a, _) = prior_blocks(&model, &p, &x);
    let gamma = 0.3;
    let s_old = cov_of(&model, &p);
    let m_old = model.params(&p).unwrap().mean.to_vec();
    let prec_old = naive_inverse(&s_old, M);
    let beta = 1.0 / 0.05;
    let mut lam = vec![0.0; M * M];
    for i in 0..M {
        for j in 0..M {
            let aat: f64 = (0..N).map(|t| a[i * N + t] * a[j * N + t]).sum();
            lam[i * M + j] = (1.0 - gamma) * prec_old[i * M + j] + gamma * (beta * aat + f64::from(i == j));
        }
    }
    // g_m − 2·g_S·m = β·A·y for the Gaussian.
    let theta1: Vec<f64> = (0..M)
        .map(|i| {
            (1.0 - gamma) * (0..M).map(|j| prec_old[i * M + j] * m_old[j]).sum::<f64>()
                + gamma * beta * (0..N).map(|t| a[i * N + t] * y[t]).sum::<f64>()
        })
        .collect();
    let cov = naive_inverse(&lam, M);
    let mean: Vec<f64> = (0..M).map(|i| (0..M).map(|j| cov[i * M + j] * theta1[j]).sum()).collect();
    natural_step(&model, &mut p, &x, &y, NaturalConfig::new(gamma));
    let (em, es) = (max_rel(model.params(&p).unwrap().mean, &mean), max_rel(&cov_of(&model, &p), &cov));
    println!("γ = {gamma}: mean {em:.2e}, covariance {es:.2e}");
    assert!(em <= 1e-10 && es <= 1e-10);
}

#[test]
fn indefinite_precision_halves_gamma_then_fails_with_a_typed_error() {
    // L = ½I (S = ¼I, S⁻¹ = 4I), g_S = c·I: Λ' = (1 − γ)·4I + γ(1 − 2c)I.
    let guide = NaturalGuide::new(3).unwrap();
    let mut ws = vec![0.0; guide.workspace_len().unwrap()];
    let mean = [0.1, -0.2, 0.3];
    let mut l = [0.0; 6];
    let mut lv = PackedLower::new(3, &mut l[..]).unwrap();
    (0..3).for_each(|i| lv.set(i, i, 0.5));
    let g_m = [1.0, 0.0, -1.0];
    let eye = |c: f64| (0..9).map(|k| if k % 4 == 0 { c } else { 0.0 }).collect::<Vec<f64>>();
    let (mut om, mut ol) = ([0.0; 3], [0.0; 6]);
    // c = 1: γ = 1 gives −I; γ = ½ gives 2 − ½ > 0.
    let used = guide
        .step(
            1.0,
            &mean,
            PackedLower::new(3, &l[..]).unwrap(),
            &g_m,
            &eye(1.0),
            &mut om,
            PackedLower::new(3, &mut ol[..]).unwrap(),
            &mut ws,
        )
        .unwrap();
    assert_eq!(used, 0.5);
    assert!(om.iter().chain(&ol).all(|v| v.is_finite()));
    // c = 1e12: indefinite for every γ down to 2⁻¹⁰: a typed error, no NaN anywhere.
    let err = guide
        .step(
            1.0,
            &mean,
            PackedLower::new(3, &l[..]).unwrap(),
            &g_m,
            &eye(1e12),
            &mut om,
            PackedLower::new(3, &mut ol[..]).unwrap(),
            &mut ws,
        )
        .unwrap_err();
    assert!(matches!(err, Error::NotPositiveDefinite { .. }), "{err:?}");
    // γ outside (0, 1] and a singular L are refused.
    let bad = guide.step(
        0.0,
        &mean,
        PackedLower::new(3, &l[..]).unwrap(),
        &g_m,
        &eye(0.0),
        &mut om,
        PackedLower::new(3, &mut ol[..]).unwrap(),
        &mut ws,
    );
    assert!(matches!(bad, Err(Error::InvalidParameter { .. })));
    let mut singular = l;
    PackedLower::new(3, &mut singular[..]).unwrap().set(2, 2, 0.0);
    let bad = guide.step(
        0.5,
        &mean,
        PackedLower::new(3, &singular[..]).unwrap(),
        &g_m,
        &eye(0.0),
        &mut om,
        PackedLower::new(3, &mut ol[..]).unwrap(),
        &mut ws,
    );
    assert!(matches!(bad, Err(Error::NotPositiveDefinite { pivot: 2, .. })));
}

#[test]
fn a_failed_step_changes_nothing() {
    let model = rbf_model();
    let mut rng = Xoshiro256::from_u64(40);
    let (x, y) = data(&mut rng, N, 2);
    let p0 = random_params(&model, &Rbf::params(1.0, 0.5), &mut rng);
    let mut ws = vec![0.0; model.workspace_len(N).unwrap()];
    let mut g0 = vec![0.0; p0.len()];
    model.elbo_and_grad(&p0, &x, &y, ElboOptions::default(), &mut g0, &mut ws).unwrap();
    g0.iter_mut().for_each(|v| *v = -*v);
    let np = p0.len();
    let (mut mu, mut nu) = (vec![0.0; np], vec![0.0; np]);
    let mut nws = vec![0.0; NaturalGradient::<f64>::workspace_len(&model).unwrap()];
    // (1) Adam's update of the kernel variance overflows: refused, the guide not written either.
    let adam = Adam::new(AdamConfig::new(1e308), &mut mu, &mut nu).unwrap();
    let mut opt = NaturalGradient::new(&model, NaturalConfig::new(1.0), adam, &mut nws).unwrap();
    let mut p = p0.clone();
    p[0] = -1e308;
    let before = p.clone();
    let mut g = g0.clone();
    g[0] = 1.0;
    assert!(matches!(opt.step(&mut p, &mut g), Err(Error::NonFinite { .. })));
    assert_eq!(p, before);
    assert_eq!(opt.t(), 0);
    assert!(opt.adam().moments().0.iter().all(|&v| v == 0.0));
    // (2) The natural step fails (a gradient that makes every precision indefinite): refused.
    let mut p = p0.clone();
    let mut g = g0.clone();
    let lens = model.layout();
    let off = lens.prior + lens.z + lens.mean;
    g[off..off + lens.scale_tril].iter_mut().for_each(|v| *v = -1e200);
    assert!(opt.step(&mut p, &mut g).is_err());
    assert_eq!(p, p0);
    // (3) A good step then succeeds and counts.
    let mut p = p0.clone();
    let mut g = g0.clone();
    let norm = opt.step(&mut p, &mut g).unwrap();
    assert!(norm.is_finite() && opt.t() == 1 && p != p0);
}

#[test]
fn f32_unit_step_is_close_to_the_f64_optimum() {
    let model = rbf_model();
    let mut rng = Xoshiro256::from_u64(50);
    let (x, y) = data(&mut rng, N, 2);
    let p64 = random_params(&model, &Rbf::params(1.0, 0.5), &mut rng);
    let mut q64 = p64.clone();
    natural_step(&model, &mut q64, &x, &y, NaturalConfig::new(1.0));
    let mut p32: Vec<f32> = p64.iter().map(|&v| v as f32).collect();
    let (x32, y32): (Vec<f32>, Vec<f32>) =
        (x.iter().map(|&v| v as f32).collect(), y.iter().map(|&v| v as f32).collect());
    let mut ws = vec![0.0_f32; model.workspace_len(N).unwrap()];
    let mut g = vec![0.0_f32; p32.len()];
    model.elbo_and_grad(&p32, &x32, &y32, ElboOptions::default(), &mut g, &mut ws).unwrap();
    g.iter_mut().for_each(|v| *v = -*v);
    let np = p32.len();
    let (mut mu, mut nu) = (vec![0.0_f32; np], vec![0.0_f32; np]);
    let adam = Adam::new(AdamConfig::new(1e-12), &mut mu, &mut nu).unwrap();
    let mut nws = vec![0.0_f32; NaturalGradient::<f32>::workspace_len(&model).unwrap()];
    NaturalGradient::new(&model, NaturalConfig::new(1.0), adam, &mut nws)
        .unwrap()
        .step(&mut p32, &mut g)
        .unwrap();
    let m32: Vec<f64> = model.params(&p32).unwrap().mean.iter().map(|v| v.re()).collect();
    let err = max_rel(&m32, model.params(&q64).unwrap().mean);
    println!("f32 mean vs f64: {err:.2e}");
    assert!(err <= 1e-3, "f32 mean vs f64: {err:e}");
}

#[cfg(feature = "alloc")]
#[test]
fn alternating_step_follows_the_collapsed_bound() {
    // fit drives NaturalGradient through step_with: the natural step (γ = 1) first, then Adam
    // with the gradient at the new guide, which for a Gaussian full batch is the collapsed
    // bound's gradient (envelope theorem). So one step moves the hyperparameters and Z exactly
    // as one Adam step on the collapsed bound does, and leaves the guide optimal for the old
    // hyperparameters.
    use core::ops::ControlFlow;
    use svgp::objective::{CollapsedElbo, FullBatchElbo};
    use svgp::train::fit;
    let model = rbf_model();
    let mut rng = Xoshiro256::from_u64(60);
    let (x, y) = data(&mut rng, N, 2);
    let p0 = random_params(&model, &Rbf::params(1.2, 0.5), &mut rng);
    let np = p0.len();
    let cfg = AdamConfig::new(0.05).with_clip(1.0);
    let (mut mu, mut nu, mut g) = (vec![0.0; np], vec![0.0; np], vec![0.0; np]);
    let mut natural = p0.clone();
    let mut nws = vec![0.0; NaturalGradient::<f64>::workspace_len(&model).unwrap()];
    let mut opt = NaturalGradient::new(
        &model,
        NaturalConfig::new(1.0),
        Adam::new(cfg, &mut mu, &mut nu).unwrap(),
        &mut nws,
    )
    .unwrap();
    fit(&mut FullBatchElbo::alloc(&model, &x, &y).unwrap(), &mut natural, &mut g, &mut opt, 1, |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let (mut mu, mut nu) = (vec![0.0; np], vec![0.0; np]);
    let mut collapsed = p0.clone();
    let mut adam = Adam::new(cfg, &mut mu, &mut nu).unwrap();
    let mut bound = CollapsedElbo::alloc(&model, &x, &y).unwrap();
    fit(&mut bound, &mut collapsed, &mut g, &mut adam, 1, |_| ControlFlow::Continue(())).unwrap();
    let (a, b) = (model.parts(&natural).unwrap(), model.parts(&collapsed).unwrap());
    let hyper = |p: &svgp::gp::SvgpParts<&[f64]>| [p.prior, p.z, p.likelihood].concat();
    let moved = max_rel(&hyper(&b), &hyper(&model.parts(&p0).unwrap()));
    let err = max_rel(&hyper(&a), &hyper(&b));
    println!("hyperparameters after one step: natural+Adam vs collapsed Adam {err:.2e} (the step moved them {moved:.2e})");
    assert!(moved > 1e-3 && err <= 1e-9, "{err:e}");
    let mut optimal = p0.clone();
    let mut cws = vec![0.0; model.collapsed_workspace_len(N).unwrap()];
    model.optimal_guide(&mut optimal, &x, &y, &mut cws).unwrap();
    let o = model.parts(&optimal).unwrap();
    assert!(max_rel(a.mean, o.mean) <= 1e-10 && max_rel(a.scale_tril, o.scale_tril) <= 1e-10);
}

#[cfg(feature = "std")]
#[test]
fn natural_steps_train_non_conjugate_likelihoods_and_the_collapsed_bound_refuses_them() {
    // Bernoulli (logit) and Poisson: the natural step works from the ELBO's gradient in (m, S)
    // whatever the likelihood; with γ = 0.1 (GPflow's choice for non-conjugate likelihoods)
    // 150 steps end lower than Adam's 150 on the same parameters. The collapsed bound has no
    // closed form for them: a typed error, the parameters untouched.
    use core::ops::ControlFlow;
    use svgp::likelihood::{Bernoulli, Likelihood, Poisson};
    use svgp::train::{FitOptions, Inference, Trainer};
    fn last_loss<L: Likelihood + Sync>(
        model: &Svgp<Closed<Rbf>, L>,
        x: &[f64],
        y: &[f64],
        how: Inference,
    ) -> (f64, f64) {
        let z: Vec<f64> = (0..8).map(|i| -1.0 + 2.0 * i as f64 / 7.0).collect();
        let mut p = vec![0.0; model.n_params()];
        model.init(&Rbf::params(1.0, 0.3), &z, &mut p).unwrap();
        let (mut first, mut last) = (f64::NAN, f64::NAN);
        Trainer::new(AdamConfig::new(0.01), FitOptions::new(150))
            .inference(how)
            .fit_svgp(model, &mut p, x, y, |r| {
                if r.step == 1 {
                    first = r.loss;
                }
                last = r.loss;
                ControlFlow::Continue(())
            })
            .unwrap();
        (first, last)
    }
    let n = 120;
    let x: Vec<f64> = (0..n).map(|i| -1.0 + 2.0 * i as f64 / (n - 1) as f64).collect();
    let labels: Vec<f64> = x.iter().map(|&v| if (3.0 * v).sin() > 0.0 { 1.0 } else { 0.0 }).collect();
    let counts: Vec<f64> = x.iter().map(|&v| (2.0 * (1.0 + (3.0 * v).sin())).round()).collect();
    let natural = Inference::Natural(NaturalConfig::new(0.1));
    let bern = Svgp::with_likelihood(Closed(Rbf::new(1)), Bernoulli::logit(), 8, 1e-6).unwrap();
    let pois = Svgp::with_likelihood(Closed(Rbf::new(1)), Poisson::new(), 8, 1e-6).unwrap();
    let runs = [
        ("Bernoulli", last_loss(&bern, &x, &labels, Inference::Adam), last_loss(&bern, &x, &labels, natural)),
        ("Poisson", last_loss(&pois, &x, &counts, Inference::Adam), last_loss(&pois, &x, &counts, natural)),
    ];
    for (name, adam, nat) in runs {
        println!("{name}: loss {:.3} -> Adam {:.3}, natural γ = 0.1 {:.3}", adam.0, adam.1, nat.1);
        assert!(adam.0 == nat.0 && nat.1.is_finite() && nat.1 < adam.1, "{name}: {adam:?} {nat:?}");
    }
    let mut p = vec![0.0; bern.n_params()];
    let z: Vec<f64> = (0..8).map(|i| -1.0 + 2.0 * i as f64 / 7.0).collect();
    bern.init(&Rbf::params(1.0, 0.3), &z, &mut p).unwrap();
    let before = p.clone();
    let e = Trainer::new(AdamConfig::new(0.01), FitOptions::new(5))
        .inference(Inference::Collapsed)
        .fit_svgp(&bern, &mut p, &x, &labels, |_| ControlFlow::Continue(()))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidParameter { .. }), "{e:?}");
    assert_eq!(p, before);
}
