//! Inducing-input initialisation: random subsets are uniform over M-subsets, k-means++ draws
//! with probability ∝ D², Lloyd never increases the within-cluster sum of squares.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

use svgp::batch::IterSource;
use svgp::inducing::{kmeans_pp, lloyd, lloyd_workspace_len, random_subset, reservoir};
use svgp::rng::{standard_normal, Xoshiro256};
use svgp::Error;

#[test]
fn random_subset_is_uniform_over_subsets() {
    // N = 5, M = 2: ten subsets, each with probability 1/10.
    let x = [0.0, 1.0, 2.0, 3.0, 4.0];
    let reps = 20_000;
    let mut counts = [[0usize; 5]; 5];
    let mut r = Xoshiro256::from_u64(1);
    for _ in 0..reps {
        let mut z = [0.0; 2];
        random_subset(&x, 1, &mut r, &mut z).unwrap();
        let (a, b) = (z[0] as usize, z[1] as usize);
        assert!(a < b, "distinct, in data order");
        counts[a][b] += 1;
    }
    let tol = 5.0 * (reps as f64 * 0.1 * 0.9).sqrt();
    for a in 0..5 {
        for b in a + 1..5 {
            assert!((counts[a][b] as f64 - reps as f64 / 10.0).abs() < tol, "{counts:?}");
        }
    }
    // M = N takes every row.
    let mut z = [0.0; 5];
    random_subset(&x, 1, &mut r, &mut z).unwrap();
    assert_eq!(z, x);
}

#[test]
fn kmeans_pp_draws_proportional_to_squared_distance() {
    // 1-D points 0, 1, 3. Given first centre 0 the second is 1 w.p. 1/10 and 3 w.p. 9/10;
    // given first centre 3 it is 0 w.p. 9/13 and 1 w.p. 4/13.
    let x = [0.0, 1.0, 3.0];
    let (mut from0, mut from0_to3, mut from3, mut from3_to0) = (0usize, 0usize, 0usize, 0usize);
    let mut r = Xoshiro256::from_u64(7);
    let mut ws = [0.0; 3];
    for _ in 0..30_000 {
        let mut z = [0.0; 2];
        kmeans_pp(&x, 1, &mut r, &mut z, &mut ws).unwrap();
        assert_ne!(z[0], z[1]);
        if z[0] == 0.0 {
            from0 += 1;
            from0_to3 += (z[1] == 3.0) as usize;
        } else if z[0] == 3.0 {
            from3 += 1;
            from3_to0 += (z[1] == 0.0) as usize;
        }
    }
    let check = |k: usize, n: usize, p: f64| {
        let tol = 5.0 * (n as f64 * p * (1.0 - p)).sqrt();
        assert!((k as f64 - n as f64 * p).abs() < tol, "{k} of {n}, expected p = {p}");
    };
    check(from0_to3, from0, 0.9);
    check(from3_to0, from3, 9.0 / 13.0);
}

fn clusters(per: usize, seed: u64) -> Vec<f64> {
    let centres = [(-5.0, -5.0), (5.0, -5.0), (-5.0, 5.0), (5.0, 5.0)];
    let mut r = Xoshiro256::from_u64(seed);
    centres
        .iter()
        .flat_map(|&(a, b)| (0..per).map(|_| (a, b)).collect::<Vec<_>>())
        .flat_map(|(a, b)| [a + 0.3 * standard_normal(&mut r), b + 0.3 * standard_normal(&mut r)])
        .collect()
}

fn clusters_hit(z: &[f64]) -> usize {
    let mut quad: Vec<(bool, bool)> = z.chunks(2).map(|c| (c[0] > 0.0, c[1] > 0.0)).collect();
    quad.sort_unstable();
    quad.dedup();
    quad.len()
}

#[test]
fn kmeans_pp_finds_separated_clusters_and_is_reproducible() {
    // Four clusters 10 apart with spread 0.3: k-means++ puts the 4 centres in 4 different
    // clusters except with probability ≈ 1% (a within-cluster D² draw); a uniform random
    // subset does so only with probability 4!·50⁴/C(200, 4) ≈ 9.6%.
    let x = clusters(50, 3);
    let mut ws = vec![0.0; 200];
    let (mut pp_miss, mut rs_miss) = (0, 0);
    for seed in 0..400 {
        let mut z = [0.0; 8];
        kmeans_pp(&x, 2, &mut Xoshiro256::from_u64(seed), &mut z, &mut ws).unwrap();
        pp_miss += (clusters_hit(&z) != 4) as usize;
        let mut z2 = [0.0; 8];
        kmeans_pp(&x, 2, &mut Xoshiro256::from_u64(seed), &mut z2, &mut ws).unwrap();
        assert_eq!(z, z2, "seeded: reproducible");
        random_subset(&x, 2, &mut Xoshiro256::from_u64(seed), &mut z2).unwrap();
        rs_miss += (clusters_hit(&z2) != 4) as usize;
    }
    assert!(pp_miss <= 16, "k-means++ missed a cluster in {pp_miss} of 400 seeds");
    assert!(rs_miss >= 300, "random subsets missed a cluster in only {rs_miss} of 400 seeds");
}

#[test]
fn lloyd_decreases_wcss_and_reaches_cluster_means() {
    let x = clusters(40, 4);
    let mut z = [0.0; 8];
    let mut ws = vec![0.0; 160];
    // A poor start: four data rows from the same cluster region plus its neighbours.
    z.copy_from_slice(&x[..8]);
    let mut lws = [0.0; 12];
    let mut prev = f64::INFINITY;
    for _ in 0..20 {
        let w = lloyd(&x, 2, &mut z, 1, &mut lws).unwrap();
        assert!(w <= prev * (1.0 + 1e-12), "WCSS went up: {prev} -> {w}");
        prev = w;
    }
    // From k-means++ seeds it converges to the four cluster means.
    kmeans_pp(&x, 2, &mut Xoshiro256::from_u64(9), &mut z, &mut ws).unwrap();
    lloyd(&x, 2, &mut z, 50, &mut lws).unwrap();
    for c in z.chunks(2) {
        let k = x.chunks(2).filter(|p| (p[0] > 0.0) == (c[0] > 0.0) && (p[1] > 0.0) == (c[1] > 0.0));
        let pts: Vec<&[f64]> = k.collect();
        let mx = pts.iter().map(|p| p[0]).sum::<f64>() / pts.len() as f64;
        let my = pts.iter().map(|p| p[1]).sum::<f64>() / pts.len() as f64;
        assert!((c[0] - mx).abs() < 1e-12 && (c[1] - my).abs() < 1e-12);
    }
}

#[test]
fn bad_inputs_are_errors() {
    let mut r = Xoshiro256::from_u64(0);
    let mut ws = [0.0; 4];
    let mut z = [0.0; 4];
    assert!(random_subset(&[0.0, 1.0, 2.0], 1, &mut r, &mut z).is_err()); // n < M
    assert!(random_subset(&[0.0; 4], 0, &mut r, &mut z).is_err()); // D = 0
    assert!(kmeans_pp(&[0.0, f64::NAN, 2.0, 3.0], 1, &mut r, &mut z, &mut ws).is_err());
    assert!(kmeans_pp(&[0.0, 1.0, 2.0, 3.0], 1, &mut r, &mut z, &mut ws[..2]).is_err());
    assert!(lloyd(&[0.0, 1.0, 2.0, 3.0], 1, &mut z, 3, &mut ws[..2]).is_err());
    // Fewer distinct rows than M: still fills every centre.
    let mut z3 = [9.0; 3];
    kmeans_pp(&[1.0, 1.0, 1.0, 1.0], 1, &mut r, &mut z3, &mut ws).unwrap();
    assert_eq!(z3, [1.0; 3]);
}

#[test]
fn reservoir_is_uniform_over_subsets_of_a_stream() {
    // A stream of 5 points, M = 2, read through a batch buffer of 2: ten subsets, each 1/10.
    let reps = 20_000;
    let mut counts = [[0usize; 5]; 5];
    let mut r = Xoshiro256::from_u64(3);
    for _ in 0..reps {
        let mut src = IterSource::new(1, (0..5).map(|i| ([i as f64], 0.0)));
        let (mut z, mut xb, mut yb) = ([0.0; 2], [0.0; 2], [0.0; 2]);
        assert_eq!(reservoir(&mut src, 1, usize::MAX, &mut r, &mut z, &mut xb, &mut yb).unwrap(), 5);
        let (a, b) = (z[0].min(z[1]) as usize, z[0].max(z[1]) as usize);
        assert!(a < b);
        counts[a][b] += 1;
    }
    let tol = 5.0 * (reps as f64 * 0.1 * 0.9).sqrt();
    for a in 0..5 {
        for b in a + 1..5 {
            assert!((counts[a][b] as f64 - reps as f64 / 10.0).abs() < tol, "{counts:?}");
        }
    }
    // `limit` stops early; a stream shorter than M is an error.
    let mut src = IterSource::new(1, (0..100).map(|i| ([i as f64], 0.0)));
    let (mut z, mut xb, mut yb) = ([0.0; 2], [0.0; 8], [0.0; 8]);
    assert_eq!(reservoir(&mut src, 1, 10, &mut r, &mut z, &mut xb, &mut yb).unwrap(), 10);
    assert!(z.iter().all(|&v| v < 10.0));
    let mut short = IterSource::new(1, (0..1).map(|i| ([i as f64], 0.0)));
    assert!(reservoir(&mut short, 1, 10, &mut r, &mut z, &mut xb, &mut yb).is_err());
}

#[test]
fn lloyd_centres_stay_finite() {
    let mut ws = vec![0.0; lloyd_workspace_len(2, 1).unwrap()];
    // A non-finite starting centre attracts no point: it used to come back as it went in (NaN).
    let x = [0.0, 1.0, 10.0, 11.0];
    let mut z = [0.0, f64::NAN];
    let r = lloyd(&x, 1, &mut z, 10, &mut ws);
    assert!(matches!(r, Err(Error::NonFinite { what: "initial centres z", index: 1, .. })), "{r:?}");
    // A cluster whose coordinate sum overflows (three points near f64::MAX): its centre is still
    // its mean, not ∞ (the WCSS itself, ~1e614, honestly overflows).
    let x = [1.5e308, 1.7e308, 1.6e308, -1.0, 1.0];
    let mut z = [1.6e308_f64, 0.0];
    let wcss = lloyd(&x, 1, &mut z, 5, &mut ws).unwrap();
    assert!(z.iter().all(|v| v.is_finite()) && !wcss.is_nan(), "{z:?} {wcss}");
    assert!((z[0] / 1.6e308 - 1.0).abs() < 1e-15 && z[1] == 0.0, "{z:?}");
    // No iterations: the within-cluster sum of squares of the given centres (it used to be NaN).
    let mut z = [0.5, 10.5];
    assert_eq!(lloyd(&[0.0, 1.0, 10.0, 11.0], 1, &mut z, 0, &mut ws).unwrap(), 1.0);
}
