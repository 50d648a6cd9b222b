//! gemm / syrk / gemv with arbitrary (often inconsistent) dimensions and transposes.
//!
//! Invariants: no panic; views over wrongly sized data are rejected by `MatRef::new`;
//! inconsistent products return `DimensionMismatch`; consistent ones match a naive product
//! (on small integers, where every sum is exact).
#![no_main]

mod common;

use common::Bytes;
use libfuzzer_sys::fuzz_target;
use svgp::linalg::{gemm, gemv, syrk, MatMut, MatRef, Trans};
use svgp::Error;

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    // Dimensions up to 70 so both the plain and the packed paths run.
    let dims: Vec<usize> = (0..6).map(|_| (b.u8() % 71) as usize).collect();
    let flags = b.u8();
    let ta = if flags & 1 != 0 { Trans::Yes } else { Trans::No };
    let tb = if flags & 2 != 0 { Trans::Yes } else { Trans::No };
    let slack = (flags >> 2) as usize % 3; // 0: exact data length; else off by one
    let (ar, ac, br, bc, cr, cc) = (dims[0], dims[1], dims[2], dims[3], dims[4], dims[5]);
    let len = |r: usize, c: usize| (r * c + slack).saturating_sub(if slack == 2 { 2 } else { 0 });
    // Small integers: products and sums of up to 70 terms are exact in f64.
    let a: Vec<f64> = (0..len(ar, ac)).map(|_| (b.u8() as i8 % 8) as f64).collect();
    let bm: Vec<f64> = (0..len(br, bc)).map(|_| (b.u8() as i8 % 8) as f64).collect();
    let mut c: Vec<f64> = (0..len(cr, cc)).map(|_| (b.u8() as i8 % 8) as f64).collect();
    let c0 = c.clone();
    let (va, vb) = (MatRef::new(ar, ac, &a), MatRef::new(br, bc, &bm));
    assert_eq!(va.is_ok(), a.len() == ar * ac);
    assert_eq!(vb.is_ok(), bm.len() == br * bc);
    let (Ok(va), Ok(vb)) = (va, vb) else { return };
    let Ok(vc) = MatMut::new(cr, cc, &mut c) else {
        assert_ne!(c0.len(), cr * cc);
        return;
    };
    let (m, k) = if ta == Trans::Yes { (ac, ar) } else { (ar, ac) };
    let (kb, n) = if tb == Trans::Yes { (bc, br) } else { (br, bc) };
    let consistent = k == kb && m == cr && n == cc;
    match gemm(2.0, va, ta, vb, tb, 1.0, vc) {
        Ok(()) => {
            assert!(consistent);
            for i in 0..m {
                for j in 0..n {
                    let mut s = 0.0;
                    for p in 0..k {
                        let x = if ta == Trans::Yes { a[p * ac + i] } else { a[i * ac + p] };
                        let y = if tb == Trans::Yes { bm[j * bc + p] } else { bm[p * bc + j] };
                        s += x * y;
                    }
                    assert_eq!(c[i * n + j], 2.0 * s + c0[i * n + j], "gemm ({i},{j})");
                }
            }
        }
        Err(Error::DimensionMismatch { .. }) => assert!(!consistent),
        Err(e) => panic!("unexpected gemm error {e:?}"),
    }
    // syrk and gemv on the same views: only dimension errors, never a panic.
    let mut c2 = c0.clone();
    if let Ok(vc) = MatMut::new(cr, cc, &mut c2) {
        match syrk(1.0, va, ta, 0.0, vc) {
            Ok(()) => assert!(m == cr && m == cc),
            Err(Error::DimensionMismatch { .. }) => assert!(!(m == cr && m == cc)),
            Err(e) => panic!("unexpected syrk error {e:?}"),
        }
    }
    let x: Vec<f64> = (0..dims[3]).map(|t| t as f64).collect();
    let mut y = vec![0.0; dims[4]];
    match gemv(1.0, va, ta, &x, 0.0, &mut y) {
        Ok(()) => assert!(x.len() == k && y.len() == m),
        Err(Error::DimensionMismatch { .. }) => assert!(!(x.len() == k && y.len() == m)),
        Err(e) => panic!("unexpected gemv error {e:?}"),
    }
});
