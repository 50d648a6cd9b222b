//! Accuracy of `svgp::fastmath` against `libm`, asserting the bounds the module documents.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use svgp::fastmath::{
    cos_f32, sin_cos, sin_cos_f32, sin_cos_slice, sin_cos_slice_f32, sin_f32, F32_FAST_LIMIT, F32_MAX_ULP,
    F64_FAST_LIMIT, F64_MAX_ULP, F64_SMALL_LIMIT,
};
use svgp::rng::{uniform, uniform01, Xoshiro256};
use svgp::Scalar;

/// The spacing of f64 at |v| (the ulp of the reference value).
fn ulp64(v: f64) -> f64 {
    let a = v.abs();
    f64::from_bits(a.to_bits() + 1) - a
}
fn ulp32(v: f32) -> f64 {
    let a = v.abs();
    (f32::from_bits(a.to_bits() + 1) - a) as f64
}

/// Test inputs: uniform on several ranges, log-uniform magnitudes, points next to k·π/2 and
/// quadrant boundaries, and the edges of the fast range.
fn inputs64(rng: &mut Xoshiro256, limit: f64) -> Vec<f64> {
    let mut xs = Vec::new();
    for r in [1.0, 10.0, 99.0, 1e3, limit] {
        xs.extend((0..50_000).map(|_| uniform(rng, -r, r)));
    }
    xs.extend((0..50_000).map(|_| {
        let v = 10f64.powf(uniform(rng, -300.0, limit.log10()));
        if uniform01(rng) < 0.5 {
            -v
        } else {
            v
        }
    }));
    let kmax = (limit / std::f64::consts::FRAC_PI_2).floor();
    for _ in 0..20_000 {
        let k = (uniform01(rng) * kmax).floor();
        let c = k * std::f64::consts::FRAC_PI_2;
        let h = (k + 0.5) * std::f64::consts::FRAC_PI_2;
        for base in [c, h] {
            let mut v = base;
            for _ in 0..3 {
                v = f64::from_bits(v.to_bits() + 1);
            }
            for _ in 0..7 {
                xs.push(v);
                xs.push(-v);
                v = f64::from_bits(v.to_bits().saturating_sub(1));
            }
        }
    }
    // Every double within 4 ulp of k·π/2 for the small range (k ≤ 63).
    for k in 1..64 {
        let c = k as f64 * std::f64::consts::FRAC_PI_2;
        for d in -4i64..=4 {
            let v = f64::from_bits((c.to_bits() as i64 + d) as u64);
            xs.extend([v, -v]);
        }
    }
    for k in 1..2000 {
        xs.push(k as f64 * std::f64::consts::FRAC_PI_2);
        xs.push(k as f64 * std::f64::consts::FRAC_PI_4);
    }
    xs.extend([
        0.0,
        -0.0,
        1e-310,
        -5e-324,
        f64::MIN_POSITIVE,
        1e-8,
        limit,
        -limit,
        std::f64::consts::FRAC_PI_4,
    ]);
    xs.retain(|v| v.abs() <= limit);
    xs
}

#[test]
fn f64_within_documented_ulp_bound_on_the_fast_range() {
    let mut rng = Xoshiro256::from_u64(42);
    let xs = inputs64(&mut rng, F64_FAST_LIMIT);
    let (mut s, mut c) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
    sin_cos_slice(&xs, &mut s, &mut c);
    let mut worst = (0.0_f64, 0.0_f64);
    let mut worst1 = (0.0_f64, 0.0_f64);
    for (i, &x) in xs.iter().enumerate() {
        let (rs, rc) = (libm::sin(x), libm::cos(x));
        let es = (s[i] - rs).abs() / ulp64(rs);
        let ec = (c[i] - rc).abs() / ulp64(rc);
        assert!(es <= F64_MAX_ULP, "sin({x:e}) = {:e}, libm {rs:e}: {es} ulp", s[i]);
        assert!(ec <= F64_MAX_ULP, "cos({x:e}) = {:e}, libm {rc:e}: {ec} ulp", c[i]);
        worst = (worst.0.max(es), worst.1.max(ec));
        // The one-value function never fuses multiply-adds (the same arithmetic as the slice
        // kernel on CPUs without FMA); it keeps the same bound. The slice kernel may take the
        // FMA path, so the two can differ in the last bit.
        let (s1, c1) = sin_cos(x);
        let (es1, ec1) = ((s1 - rs).abs() / ulp64(rs), (c1 - rc).abs() / ulp64(rc));
        assert!(es1 <= F64_MAX_ULP && ec1 <= F64_MAX_ULP, "scalar sin_cos({x:e}): {es1}, {ec1} ulp");
        worst1 = (worst1.0.max(es1), worst1.1.max(ec1));
    }
    eprintln!("f64 scalar path worst error vs libm: sin {} ulp, cos {} ulp", worst1.0, worst1.1);

    // A slice with every |x| ≤ F64_SMALL_LIMIT takes the cheaper reduction: same bound.
    let small: Vec<f64> = xs.iter().copied().filter(|v| v.abs() <= F64_SMALL_LIMIT).collect();
    assert!(small.len() > 150_000);
    let (mut s, mut c) = (vec![0.0; small.len()], vec![0.0; small.len()]);
    sin_cos_slice(&small, &mut s, &mut c);
    let mut worst2 = (0.0_f64, 0.0_f64);
    for (i, &x) in small.iter().enumerate() {
        let (rs, rc) = (libm::sin(x), libm::cos(x));
        let (es, ec) = ((s[i] - rs).abs() / ulp64(rs), (c[i] - rc).abs() / ulp64(rc));
        assert!(es <= F64_MAX_ULP && ec <= F64_MAX_ULP, "small-range sin_cos({x:e}): {es}, {ec} ulp");
        worst2 = (worst2.0.max(es), worst2.1.max(ec));
    }
    eprintln!("f64 small-range slice worst error vs libm: sin {} ulp, cos {} ulp", worst2.0, worst2.1);
    eprintln!("f64 worst error vs libm over {} points: sin {} ulp, cos {} ulp", xs.len(), worst.0, worst.1);
}

#[test]
fn f64_falls_back_to_libm_outside_the_fast_range() {
    let big = f64::from_bits(F64_FAST_LIMIT.to_bits() + 1);
    let xs = [big, -big, 1e6, 3e15, 1e300, -1e300, f64::MAX, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
    let (mut s, mut c) = ([0.0; 10], [0.0; 10]);
    sin_cos_slice(&xs, &mut s, &mut c);
    for (i, &x) in xs.iter().enumerate() {
        let (rs, rc) = libm::sincos(x);
        assert!(s[i].to_bits() == rs.to_bits() && c[i].to_bits() == rc.to_bits(), "fallback at {x}");
    }
}

#[test]
fn slice_lengths_and_scalar_hook() {
    // Only min(len) entries are written.
    let x = [0.3, 0.6, 0.9];
    let (mut s, mut c) = ([7.0; 2], [7.0; 4]);
    sin_cos_slice(&x, &mut s, &mut c);
    assert_eq!(c[2], 7.0);
    assert_eq!(c[3], 7.0);
    assert!((s[1] - 0.6_f64.sin()).abs() < 1e-16);
    // The Scalar hook uses the fast kernels for f64 and f32 ...
    let mut s2 = [0.0; 3];
    let mut c2 = [0.0; 3];
    <f64 as Scalar>::sin_cos_slice(&x, &mut s2, &mut c2);
    assert_eq!(s2[..2], s[..]);
    let x32 = [0.3_f32, 10.0, -2.0];
    let (mut s3, mut c3) = ([0.0_f32; 3], [0.0_f32; 3]);
    <f32 as Scalar>::sin_cos_slice(&x32, &mut s3, &mut c3);
    for i in 0..3 {
        assert_eq!((s3[i], c3[i]), sin_cos_f32(x32[i]));
    }
    // ... and the default (Dual) agrees with its element-wise sin_cos.
    type D = svgp::Dual<f64, 1>;
    let xd = [D::variable(0.7, 0), D::variable(-3.0, 0)];
    let (mut sd, mut cd) = ([D::default(); 2], [D::default(); 2]);
    D::sin_cos_slice(&xd, &mut sd, &mut cd);
    assert_eq!(sd[1].eps[0], (-3.0_f64).cos());
    assert_eq!(cd[0].eps[0], -(0.7_f64).sin());
}

#[test]
fn f32_within_documented_ulp_bound_on_the_fast_range() {
    let mut rng = Xoshiro256::from_u64(7);
    let mut xs: Vec<f32> = Vec::new();
    for r in [1.0, 10.0, 100.0, F32_FAST_LIMIT as f64] {
        xs.extend((0..100_000).map(|_| uniform(&mut rng, -r, r) as f32));
    }
    xs.extend((0..50_000).map(|_| 10f64.powf(uniform(&mut rng, -40.0, 3.7)) as f32));
    // Every f32 next to k·π/2 (three on each side).
    let kmax = (F32_FAST_LIMIT as f64 / std::f64::consts::FRAC_PI_2) as i64;
    for k in -kmax..=kmax {
        let v = (k as f64 * std::f64::consts::FRAC_PI_2) as f32;
        let mut lo = v;
        for _ in 0..3 {
            lo = f32::from_bits(if lo >= 0.0 { lo.to_bits().saturating_sub(1) } else { lo.to_bits() + 1 });
        }
        let mut w = lo;
        for _ in 0..7 {
            xs.push(w);
            w = f32::from_bits(if w >= 0.0 { w.to_bits() + 1 } else { w.to_bits().saturating_sub(1) });
        }
    }
    xs.extend([0.0, -0.0, 1e-40, f32::MIN_POSITIVE, F32_FAST_LIMIT, -F32_FAST_LIMIT]);
    xs.retain(|v| v.abs() <= F32_FAST_LIMIT);
    let (mut s, mut c) = (vec![0.0_f32; xs.len()], vec![0.0_f32; xs.len()]);
    sin_cos_slice_f32(&xs, &mut s, &mut c);
    let mut worst = (0.0_f64, 0.0_f64);
    for (i, &x) in xs.iter().enumerate() {
        // f64 libm is ~29 bits more precise than f32: a near-exact reference.
        let (rs, rc) = (libm::sin(x as f64), libm::cos(x as f64));
        let es = (s[i] as f64 - rs).abs() / ulp32(rs as f32);
        let ec = (c[i] as f64 - rc).abs() / ulp32(rc as f32);
        assert!(es <= F32_MAX_ULP, "sinf({x:e}) = {:e}, exact {rs:e}: {es} ulp", s[i]);
        assert!(ec <= F32_MAX_ULP, "cosf({x:e}) = {:e}, exact {rc:e}: {ec} ulp", c[i]);
        worst = (worst.0.max(es), worst.1.max(ec));
        assert_eq!((sin_f32(x), cos_f32(x)), (s[i], c[i]));
    }
    eprintln!("f32 worst error vs exact over {} points: sin {} ulp, cos {} ulp", xs.len(), worst.0, worst.1);
}

#[test]
fn f32_falls_back_to_libm_outside_the_fast_range() {
    let big = f32::from_bits(F32_FAST_LIMIT.to_bits() + 1);
    let xs = [big, -big, 1e5, 1e30, f32::MAX, f32::INFINITY, f32::NAN];
    let (mut s, mut c) = ([0.0_f32; 7], [0.0_f32; 7]);
    sin_cos_slice_f32(&xs, &mut s, &mut c);
    for (i, &x) in xs.iter().enumerate() {
        let (rs, rc) = libm::sincosf(x);
        assert!(s[i].to_bits() == rs.to_bits() && c[i].to_bits() == rc.to_bits(), "fallback at {x}");
    }
}

#[test]
fn tanh_f64_within_documented_ulp_bound() {
    use svgp::fastmath::{tanh, tanh_slice, TANH_F64_MAX_ULP};
    let mut rng = Xoshiro256::from_u64(9);
    let mut xs: Vec<f64> = Vec::new();
    for r in [0.7, 2.0, 5.0, 40.0] {
        xs.extend((0..100_000).map(|_| uniform(&mut rng, -r, r)));
    }
    xs.extend((0..50_000).map(|_| 10f64.powf(uniform(&mut rng, -310.0, 1.6))));
    // Both sides of the switch at 0.625 and of the clamp at 20.
    for edge in [0.625_f64, 20.0] {
        let mut v = edge;
        for _ in 0..5 {
            v = f64::from_bits(v.to_bits() - 1);
        }
        for _ in 0..10 {
            xs.push(v);
            xs.push(-v);
            v = f64::from_bits(v.to_bits() + 1);
        }
    }
    xs.extend([0.0, -0.0, 5e-324, 1e300, -1e300, f64::INFINITY, f64::NEG_INFINITY]);
    let mut out = vec![0.0; xs.len()];
    tanh_slice(&xs, &mut out);
    let mut worst = 0.0_f64;
    for (&x, &y) in xs.iter().zip(&out) {
        let r = libm::tanh(x);
        let e = (y - r).abs() / ulp64(r);
        assert!(e <= TANH_F64_MAX_ULP, "tanh({x:e}) = {y:e}, libm {r:e}: {e} ulp");
        // The one-value function (never fused) keeps the same bound.
        let e1 = (tanh(x) - r).abs() / ulp64(r);
        assert!(e1 <= TANH_F64_MAX_ULP, "scalar tanh({x:e}): {e1} ulp");
        worst = worst.max(e);
    }
    eprintln!("tanh f64 worst error vs libm over {} points: {worst} ulp", xs.len());
    let mut o = [0.0];
    tanh_slice(&[f64::NAN], &mut o);
    assert!(o[0].is_nan() && tanh(f64::NAN).is_nan());
    assert_eq!(tanh(-0.0).to_bits(), (-0.0_f64).to_bits());
}

#[test]
fn tanh_f32_within_documented_ulp_bound() {
    use svgp::fastmath::{tanh_f32, tanh_slice_f32, TANH_F32_MAX_ULP};
    let mut rng = Xoshiro256::from_u64(10);
    let mut xs: Vec<f32> = Vec::new();
    for r in [0.7, 2.0, 5.0, 12.0] {
        xs.extend((0..100_000).map(|_| uniform(&mut rng, -r, r) as f32));
    }
    xs.extend((0..50_000).map(|_| 10f64.powf(uniform(&mut rng, -45.0, 1.1)) as f32));
    for edge in [0.625_f32, 9.0] {
        let mut v = f32::from_bits(edge.to_bits() - 5);
        for _ in 0..10 {
            xs.extend([v, -v]);
            v = f32::from_bits(v.to_bits() + 1);
        }
    }
    xs.extend([0.0, -0.0, 1e-45, 1e30, -1e30, f32::INFINITY, f32::NEG_INFINITY]);
    let mut out = vec![0.0_f32; xs.len()];
    tanh_slice_f32(&xs, &mut out);
    let mut worst = 0.0_f64;
    for (&x, &y) in xs.iter().zip(&out) {
        let r = libm::tanh(x as f64); // near-exact reference
        let e = (y as f64 - r).abs() / ulp32(r as f32);
        assert!(e <= TANH_F32_MAX_ULP, "tanhf({x:e}) = {y:e}, exact {r:e}: {e} ulp");
        assert_eq!(y.to_bits(), tanh_f32(x).to_bits());
        worst = worst.max(e);
    }
    eprintln!("tanh f32 worst error vs exact over {} points: {worst} ulp", xs.len());
    assert!(tanh_f32(f32::NAN).is_nan());
    assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0_f32).to_bits());
}

#[test]
fn cos_only_kernels_agree_with_sin_cos() {
    use svgp::fastmath::{cos_in_place, cos_in_place_f32};
    let mut rng = Xoshiro256::from_u64(12);
    // f32: bit-identical to the cosines of sin_cos, inside and outside the fast range.
    let mut xs: Vec<f32> = (0..200_000).map(|_| uniform(&mut rng, -7000.0, 7000.0) as f32).collect();
    xs.extend([0.0, -0.0, F32_FAST_LIMIT, 1e30, f32::NAN]);
    let mut v = xs.clone();
    cos_in_place_f32(&mut v);
    for (&x, &c) in xs.iter().zip(&v) {
        let want = sin_cos_f32(x).1;
        assert!(c.to_bits() == want.to_bits() || (c.is_nan() && want.is_nan()), "cos_f32 slice at {x}");
        assert!(cos_f32(x).to_bits() == want.to_bits() || want.is_nan(), "cos_f32 at {x}");
    }
    // f64: within the documented bound of libm, small and general reductions alike.
    for r in [50.0, 5e5] {
        let xs: Vec<f64> = (0..100_000).map(|_| uniform(&mut rng, -r, r)).collect();
        let mut v = xs.clone();
        cos_in_place(&mut v);
        for (&x, &c) in xs.iter().zip(&v) {
            let rc = libm::cos(x);
            assert!((c - rc).abs() <= F64_MAX_ULP * ulp64(rc), "cos_in_place({x:e}) = {c:e}, libm {rc:e}");
        }
    }
}
