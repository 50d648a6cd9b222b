//! The device path allocates nothing: reading a blob and predicting, counted by a global
//! allocator that tallies every allocation made on this thread (lower the cap when allocations
//! drop, never raise it: it is 0).
// Exports blobs with `feature_to_bytes`/`kernel_to_bytes`, which need `alloc`.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::fixture::*;
use svgp::deploy::{feature_to_bytes, read_feature, view_feature, FeatureModel, FeaturePosterior, Plan};
use svgp::features::DeepRff;

struct Counting;

thread_local! {
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    COUNT.with(Cell::get)
}

#[test]
fn reading_and_predicting_allocate_nothing() {
    let fx = load(DEEP);
    let (map, flat, m, jitter) = deep_fixture_model(&fx, "final");
    let model = FeatureModel::from_flat(map, m, jitter, &flat).unwrap();
    let n = FeaturePosterior::<f32, DeepRff>::storage_len(&map, m).unwrap();
    let mut storage = vec![0.0f32; n];
    let post =
        FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let blob = feature_to_bytes(&post, &Plan::compact()).unwrap();
    let mut store = vec![0.0f32; n];
    let mut ws = vec![0.0f32; post.workspace_len().unwrap()];

    let before = allocations();
    let copied = read_feature::<f32, DeepRff>(&blob, &mut store).unwrap();
    let in_place = view_feature::<f32, DeepRff>(&blob).unwrap();
    let mut acc = 0.0f32;
    for post in [copied, in_place] {
        for k in 0..50 {
            let x = [-1.0 + 0.04 * k as f32, 0.3];
            let p = post.predict(&x, &mut ws).unwrap();
            acc += p.mean + p.variance + post.predict_mean(&x, &mut ws).unwrap();
        }
    }
    assert_eq!(allocations() - before, 0);
    assert!(acc.is_finite());
}
