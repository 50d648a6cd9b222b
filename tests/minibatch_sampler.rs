//! Shuffled epochs are exact permutations with uniform-looking order; sources keep rows paired
//! with targets and report bad input as errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

use svgp::batch::{BatchSource, FnSource, IterSource, ShuffledEpochs, SliceSource};
use svgp::rng::Xoshiro256;

fn epoch(s: &mut ShuffledEpochs<Xoshiro256>, b: usize) -> (Vec<usize>, Vec<usize>) {
    let (mut order, mut sizes) = (vec![], vec![]);
    let mut idx = vec![0; b];
    let start = s.epoch();
    while s.epoch() == start {
        let k = s.next_batch(&mut idx);
        sizes.push(k);
        order.extend_from_slice(&idx[..k]);
    }
    (order, sizes)
}

#[test]
fn every_epoch_is_a_permutation() {
    for &n in &[1usize, 2, 3, 4, 5, 7, 16, 17, 64, 65, 1000, 4097] {
        for &b in &[1usize, 3, 64, 5000] {
            let mut s = ShuffledEpochs::new(n, Xoshiro256::from_u64(n as u64 * 31 + b as u64)).unwrap();
            for _ in 0..3 {
                let (mut order, sizes) = epoch(&mut s, b);
                let q = n / b.min(n);
                let mut expect = vec![b.min(n); q];
                if n % b.min(n) != 0 {
                    expect.push(n % b);
                }
                assert_eq!(sizes, expect, "n {n} b {b}");
                order.sort_unstable();
                assert_eq!(order, (0..n).collect::<Vec<_>>(), "n {n} b {b}");
            }
        }
    }
}

#[test]
fn epochs_differ_and_seeds_reproduce() {
    let mut a = ShuffledEpochs::new(100, Xoshiro256::from_u64(1)).unwrap();
    let mut b = ShuffledEpochs::new(100, Xoshiro256::from_u64(1)).unwrap();
    let mut c = ShuffledEpochs::new(100, Xoshiro256::from_u64(2)).unwrap();
    let (a1, _) = epoch(&mut a, 7);
    let (a2, _) = epoch(&mut a, 7);
    assert_ne!(a1, a2);
    assert_ne!(a1, (0..100).collect::<Vec<_>>());
    assert_eq!(epoch(&mut b, 7).0, a1);
    assert_ne!(epoch(&mut c, 7).0, a1);
}

#[test]
fn shuffle_looks_uniform() {
    // N = 5 over 20,000 epochs: each point is first with probability 1/5, and each ordered
    // pair (i before j) has probability 1/2. Tolerances are 5 binomial standard deviations.
    let (n, reps) = (5usize, 20_000usize);
    let mut s = ShuffledEpochs::new(n, Xoshiro256::from_u64(42)).unwrap();
    let mut first = [0usize; 5];
    let mut before = [[0usize; 5]; 5];
    for _ in 0..reps {
        let (order, _) = epoch(&mut s, n);
        first[order[0]] += 1;
        for a in 0..n {
            for b in a + 1..n {
                before[order[a]][order[b]] += 1;
            }
        }
    }
    let sd = |p: f64| 5.0 * (reps as f64 * p * (1.0 - p)).sqrt();
    for &f in &first {
        assert!((f as f64 - reps as f64 / 5.0).abs() < sd(0.2), "first counts {first:?}");
    }
    for i in 0..n {
        for j in 0..n {
            if i != j {
                assert!((before[i][j] as f64 - reps as f64 / 2.0).abs() < sd(0.5), "{i} before {j}");
            }
        }
    }
}

#[test]
fn zero_points_is_an_error() {
    assert!(ShuffledEpochs::new(0, Xoshiro256::from_u64(0)).is_err());
}

#[test]
fn slice_source_keeps_pairs_and_ends_epochs_with_a_short_batch() {
    let n = 23;
    let x: Vec<f64> = (0..n).flat_map(|i| [i as f64, -(i as f64)]).collect();
    let y: Vec<f64> = (0..n).map(|i| 100.0 + i as f64).collect();
    let mut src = SliceSource::new(&x, &y, 2, Xoshiro256::from_u64(5)).unwrap();
    let (mut xb, mut yb) = (vec![0.0; 20], vec![0.0; 10]);
    let mut seen = vec![0; n];
    let mut sizes = vec![];
    while src.epoch() == 0 {
        let b = src.next_batch(&mut xb, &mut yb).unwrap();
        sizes.push(b);
        for r in 0..b {
            let i = xb[2 * r] as usize;
            assert_eq!(xb[2 * r + 1], -(i as f64));
            assert_eq!(yb[r], 100.0 + i as f64);
            seen[i] += 1;
        }
    }
    assert_eq!(sizes, vec![10, 10, 3]);
    assert_eq!(seen, vec![1; n]);
    // Wrong buffer shapes and data shapes are errors.
    assert!(src.next_batch(&mut [0.0; 3], &mut [0.0; 2]).is_err());
    assert!(SliceSource::new(&x[..5], &y[..3], 2, Xoshiro256::from_u64(0)).is_err());
    assert!(SliceSource::new(&x, &y, 0, Xoshiro256::from_u64(0)).is_err());
}

#[test]
fn callback_and_iterator_sources() {
    let mut calls = 0;
    let mut over = FnSource::new(1, |_x: &mut [f64], y: &mut [f64]| {
        calls += 1;
        Ok(y.len() + 1)
    });
    assert!(over.next_batch(&mut [0.0; 2], &mut [0.0; 2]).is_err());
    let rows = vec![(vec![1.0, 2.0], 3.0), (vec![4.0], 5.0)];
    let mut it = IterSource::new(2, rows.into_iter());
    let (mut xb, mut yb) = ([0.0; 4], [0.0; 2]);
    assert!(it.next_batch(&mut xb, &mut yb).is_err()); // second row has the wrong length
    assert_eq!(xb[..2], [1.0, 2.0]);
}
