//! The committed firmware blobs: `firmware/model.bin` and `model-rbf.bin` (the compact plan, embedded by the
//! firmware) and `firmware/model.bin.f64` (every block in f64: the desktop reference its
//! predictions are checked against) must read, describe the same model and agree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use svgp::deploy::{block_entries, read_feature, read_header, read_kernel, Encoding, ModelKind};
use svgp::features::DeepRff;
use svgp::kernel::Rbf;

#[test]
fn committed_blobs_read_and_agree() {
    // The deep model (firmware/model.bin) and the RBF one (model-rbf.bin, for the Cortex-M0).
    for name in ["model.bin", "model-rbf.bin"] {
        blobs_agree(name);
    }
}

fn blobs_agree(name: &str) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/firmware");
    let b32 = std::fs::read(format!("{dir}/{name}")).unwrap();
    let b64 = std::fs::read(format!("{dir}/{name}.f64")).unwrap();
    let (h32, h64) = (read_header(&b32).unwrap(), read_header(&b64).unwrap());
    // The reference is all f64; the embedded blob has nothing wider than f32 (the firmware
    // evaluates in f32).
    assert!(block_entries(&b64, &h64).all(|e| e.encoding == Encoding::F64));
    assert!(block_entries(&b32, &h32).all(|e| e.encoding != Encoding::F64));
    assert_eq!(block_entries(&b32, &h32).count(), h32.n_blocks);
    assert_eq!((h32.kind, h32.family, h32.shape, h32.count), (h64.kind, h64.family, h64.shape, h64.count));
    let (mut s32, mut s64) = (vec![0.0f32; h32.count], vec![0.0f64; h64.count]);
    let mut worst = 0.0f64;
    let mut compare = |p32: &dyn Fn(&[f32]) -> (f32, f32), p64: &dyn Fn(&[f64]) -> (f64, f64)| {
        for k in 0..100 {
            let x = [-1.0 + 0.02 * k as f64, 0.9 - 0.018 * k as f64];
            let (a, b) = (p32(&[x[0] as f32, x[1] as f32]), p64(&x));
            worst = worst.max((a.0 as f64 - b.0).abs()).max((a.1 as f64 - b.1).abs());
        }
    };
    match h32.kind {
        ModelKind::Feature => {
            let (p32, p64) = (
                read_feature::<f32, DeepRff>(&b32, &mut s32).unwrap(),
                read_feature::<f64, DeepRff>(&b64, &mut s64).unwrap(),
            );
            let (w32, w64) = (
                std::cell::RefCell::new(vec![0.0f32; p32.workspace_len().unwrap()]),
                std::cell::RefCell::new(vec![0.0f64; p64.workspace_len().unwrap()]),
            );
            compare(
                &|x| p32.predict(x, &mut w32.borrow_mut()).map(|p| (p.mean, p.variance)).unwrap(),
                &|x| p64.predict(x, &mut w64.borrow_mut()).map(|p| (p.mean, p.variance)).unwrap(),
            );
        }
        ModelKind::Kernel => {
            let (p32, p64) = (
                read_kernel::<f32, Rbf>(&b32, &mut s32).unwrap(),
                read_kernel::<f64, Rbf>(&b64, &mut s64).unwrap(),
            );
            let (w32, w64) = (
                std::cell::RefCell::new(vec![0.0f32; p32.workspace_len().unwrap()]),
                std::cell::RefCell::new(vec![0.0f64; p64.workspace_len().unwrap()]),
            );
            compare(
                &|x| p32.predict(x, &mut w32.borrow_mut()).map(|p| (p.mean, p.variance)).unwrap(),
                &|x| p64.predict(x, &mut w64.borrow_mut()).map(|p| (p.mean, p.variance)).unwrap(),
            );
        }
    }
    // The firmware check's bound against the f64 reference (examples/deploy.rs, TOL_F64).
    assert!(worst < 1e-3, "{name}: the embedded and the f64 blob disagree by {worst:e}");
}
