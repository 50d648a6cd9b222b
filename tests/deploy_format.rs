//! The model format: round trips, and one typed error per kind of damage.
// Exports blobs with `feature_to_bytes`/`kernel_to_bytes`, which need `alloc`.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::deploy::*;
use common::fixture::*;
use proptest::prelude::*;
use svgp::deploy::*;
use svgp::kernel::Rbf;

fn feature_blob_f32(seed: u64) -> (Vec<u8>, Vec<f32>) {
    let r = random_feature_model(seed, 2, 24, 5);
    let model = FeatureModel::from_flat(r.map, 5, 1e-6, &r.flat).unwrap();
    let mut storage = vec![0.0f32; FeaturePosterior::<f32, PlainRff>::storage_len(&r.map, 5).unwrap()];
    let post =
        FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    (feature_to_bytes(&post).unwrap(), storage.clone())
}

/// Rewrites the trailing CRC so that a deliberate header/payload edit reaches the later checks.
fn reseal(blob: &mut [u8]) {
    let n = blob.len() - 4;
    let crc = crc32(&blob[..n]);
    blob[n..].copy_from_slice(&crc.to_le_bytes());
}

fn read(blob: &[u8]) -> Result<Vec<f32>, Error> {
    let mut storage = vec![0.0f32; 4096];
    read_feature::<f32, PlainRff>(blob, &mut storage).map(|p| p.storage().to_vec())
}

fn model_err(kind: BlobError, at: usize) -> Result<Vec<f32>, Error> {
    Err(Error::InvalidModel { kind, at })
}

#[test]
fn feature_round_trip_is_bit_exact_and_predicts_the_same() {
    let (blob, storage) = feature_blob_f32(1);
    assert_eq!(blob.len(), encoded_len::<f32>(storage.len()).unwrap());
    assert_eq!(&blob[..4], b"SVGP");
    let h = read_header(&blob).unwrap();
    assert_eq!((h.kind, h.scalar_size, h.count), (ModelKind::Feature, 4, storage.len()));
    let mut back = vec![0.0f32; h.count];
    let post = read_feature::<f32, PlainRff>(&blob, &mut back).unwrap();
    assert_eq!(post.map(), &PlainRff { d: 2, j: 24 });
    assert_eq!(post.storage(), &storage[..]);
    let orig = FeaturePosterior::from_storage(PlainRff { d: 2, j: 24 }, 5, &storage).unwrap();
    let (mut w1, mut w2) =
        (vec![0.0; orig.workspace_len().unwrap()], vec![0.0; orig.workspace_len().unwrap()]);
    let x = [0.3f32, -0.2];
    assert_eq!(orig.predict(&x, &mut w1).unwrap(), post.predict(&x, &mut w2).unwrap());
}

#[test]
fn f64_feature_and_kernel_round_trips() {
    let r = random_feature_model(2, 3, 10, 4);
    let model = FeatureModel::from_flat(r.map, 4, 1e-6, &r.flat).unwrap();
    let mut storage = vec![0.0f64; FeaturePosterior::<f64, PlainRff>::storage_len(&r.map, 4).unwrap()];
    let post =
        FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let blob = feature_to_bytes(&post).unwrap();
    let mut back = vec![0.0f64; storage.len()];
    assert_eq!(read_feature::<f64, PlainRff>(&blob, &mut back).unwrap().storage(), &storage[..]);
    // Reading it as f32 is a typed error, not a reinterpretation.
    assert_eq!(read(&blob), model_err(BlobError::WrongScalar, offset::SCALAR));

    let params = [0.1, -0.5, 0.0, 0.5, 1.0, -1.0, 0.5, 0.1, 0.3, -3.0];
    let km = KernelModel::from_flat(Rbf::new(1), 2, 1e-6, &params).unwrap();
    let mut ks = vec![0.0f64; KernelPosterior::<f64, Rbf>::storage_len(&Rbf::new(1), 2).unwrap()];
    let kp = KernelPosterior::build(&km, &mut ks, &mut vec![0.0; km.build_workspace_len().unwrap()]).unwrap();
    let kblob = kernel_to_bytes(&kp).unwrap();
    let mut kback = vec![0.0f64; ks.len()];
    let kread = read_kernel::<f64, Rbf>(&kblob, &mut kback).unwrap();
    assert_eq!(kread.storage(), &ks[..]);
    assert_eq!(kread.kernel(), &Rbf::new(1));
    // A kernel blob is not a feature blob.
    let mut fstore = vec![0.0f64; 4096];
    assert_eq!(
        read_feature::<f64, PlainRff>(&kblob, &mut fstore).map(|_| ()),
        Err(Error::InvalidModel { kind: BlobError::WrongKind, at: offset::KIND })
    );
}

#[test]
fn every_truncation_is_reported_as_truncated() {
    let (blob, _) = feature_blob_f32(3);
    for n in 0..blob.len() {
        assert_eq!(read(&blob[..n]), model_err(BlobError::Truncated, n), "prefix {n}");
    }
}

#[test]
fn header_damage_gets_its_own_error() {
    let (blob, _) = feature_blob_f32(4);
    let edit = |at: usize, bytes: &[u8], seal: bool| {
        let mut b = blob.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        if seal {
            reseal(&mut b);
        }
        read(&b)
    };
    assert_eq!(edit(0, b"SVGQ", true), model_err(BlobError::WrongMagic, offset::MAGIC));
    assert_eq!(edit(4, &2u16.to_le_bytes(), true), model_err(BlobError::UnsupportedVersion, offset::VERSION));
    assert_eq!(edit(6, &[2], true), model_err(BlobError::WrongScalar, offset::SCALAR));
    assert_eq!(edit(7, &[9], true), model_err(BlobError::WrongKind, offset::KIND));
    assert_eq!(edit(8, &7u32.to_le_bytes(), true), model_err(BlobError::WrongFamily, offset::FAMILY));
    // Impossible shapes: M = 0, a count that disagrees with the sizes, a shape word the
    // family rejects, a shape that disagrees with the counts, sizes whose product overflows.
    assert_eq!(
        edit(80, &0u32.to_le_bytes(), true),
        model_err(BlobError::ImpossibleShape, offset::N_INDUCING)
    );
    assert_eq!(edit(92, &7u32.to_le_bytes(), true), model_err(BlobError::ImpossibleShape, offset::COUNT));
    assert_eq!(
        edit(16 + 4 * 5, &1u32.to_le_bytes(), true),
        model_err(BlobError::BadShapeWord("non-zero unused shape word"), 36)
    );
    assert_eq!(
        edit(16, &0u32.to_le_bytes(), true),
        model_err(BlobError::BadShapeWord("test map input dimension"), 16)
    );
    assert_eq!(edit(16, &3u32.to_le_bytes(), true), model_err(BlobError::ImpossibleShape, offset::INPUT_DIM));
    assert_eq!(edit(80, &MAX_DIM.to_le_bytes(), true), model_err(BlobError::ImpossibleShape, offset::COUNT));
    // Checksum: one payload bit, and the stored CRC itself.
    let mut b = blob.clone();
    b[200] ^= 0x10;
    assert_eq!(read(&b), model_err(BlobError::ChecksumMismatch, blob.len() - 4));
    let mut b = blob.clone();
    *b.last_mut().unwrap() ^= 1;
    assert_eq!(read(&b), model_err(BlobError::ChecksumMismatch, blob.len() - 4));
    // Extra bytes after the CRC.
    let mut b = blob.clone();
    b.push(0);
    assert_eq!(read(&b), model_err(BlobError::TrailingBytes, blob.len()));
}

#[test]
fn non_finite_payload_is_reported_with_its_index() {
    let (blob, _) = feature_blob_f32(5);
    for (k, bad) in [(3usize, f32::NAN), (40, f32::INFINITY), (0, f32::NEG_INFINITY)] {
        let mut b = blob.clone();
        b[HEADER_LEN + 4 * k..HEADER_LEN + 4 * k + 4].copy_from_slice(&bad.to_le_bytes());
        reseal(&mut b);
        match read(&b) {
            Err(Error::NonFinite { index, .. }) => assert_eq!(index, k),
            other => panic!("expected NonFinite at {k}, got {other:?}"),
        }
    }
}

#[test]
fn storage_too_small_is_a_buffer_error() {
    let (blob, storage) = feature_blob_f32(6);
    let mut small = vec![0.0f32; storage.len() - 1];
    assert!(matches!(
        read_feature::<f32, PlainRff>(&blob, &mut small),
        Err(Error::BufferTooSmall { needed, .. }) if needed == storage.len()
    ));
}

#[test]
fn every_single_byte_change_is_rejected() {
    // CRC-32 catches every burst of ≤ 32 bits; the header checks catch the rest first.
    let (blob, _) = feature_blob_f32(7);
    for i in 0..blob.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut b = blob.clone();
            b[i] ^= flip;
            assert!(read(&b).is_err(), "byte {i} ^ {flip:#x} accepted");
        }
    }
}

#[test]
fn unaligned_blob_reads_the_same() {
    let (blob, storage) = feature_blob_f32(8);
    let mut shifted = vec![0u8; blob.len() + 3];
    shifted[3..].copy_from_slice(&blob);
    assert_eq!(read(&shifted[3..]).unwrap(), storage);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = read(&bytes);
        let mut k = vec![0.0f64; 256];
        let _ = read_kernel::<f64, Rbf>(&bytes, &mut k);
    }

    #[test]
    fn valid_header_with_random_payload_never_panics(seed in any::<u64>(), edits in proptest::collection::vec((0usize..104, any::<u8>()), 1..6)) {
        let (mut blob, _) = feature_blob_f32(seed % 16);
        for (at, v) in edits {
            blob[at] = v;
        }
        reseal(&mut blob);
        let _ = read(&blob);
    }
}

#[test]
fn deep_rff_blob_round_trips_and_rejects_bad_shapes() {
    use svgp::features::DeepRff;
    let fx = load(DEEP);
    let (map, flat, m, jitter) = deep_fixture_model(&fx, "final");
    let model = FeatureModel::from_flat(map, m, jitter, &flat).unwrap();
    let mut storage = vec![0.0f32; FeaturePosterior::<f32, DeepRff>::storage_len(&map, m).unwrap()];
    let post =
        FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let blob = feature_to_bytes(&post).unwrap();
    let mut back = vec![0.0f32; storage.len()];
    let read = read_feature::<f32, DeepRff>(&blob, &mut back).unwrap();
    assert_eq!(read.map(), &map);
    assert_eq!(read.storage(), &storage[..]);
    // Shape words: [layers 3, activation 1, 2, 32, 32, 8, J 256].
    let word = |i: usize| u32::from_le_bytes(blob[16 + 4 * i..20 + 4 * i].try_into().unwrap());
    assert_eq!((0..7).map(word).collect::<Vec<_>>(), [3, 1, 2, 32, 32, 8, 256]);
    let mut store = vec![0.0f32; storage.len()];
    let mut edit = |word_index: usize, v: u32| {
        let mut b = blob.clone();
        b[16 + 4 * word_index..20 + 4 * word_index].copy_from_slice(&v.to_le_bytes());
        reseal(&mut b);
        read_feature::<f32, DeepRff>(&b, &mut store).map(|_| ()).unwrap_err()
    };
    let at = |w: usize| 16 + 4 * w;
    assert_eq!(
        edit(0, 0),
        Error::InvalidModel { kind: BlobError::BadShapeWord("deep RFF layer count"), at: at(0) }
    );
    assert_eq!(
        edit(0, 99),
        Error::InvalidModel { kind: BlobError::BadShapeWord("deep RFF layer count"), at: at(0) }
    );
    assert_eq!(
        edit(1, 6),
        Error::InvalidModel { kind: BlobError::BadShapeWord("deep RFF activation"), at: at(1) }
    );
    assert_eq!(
        edit(3, 0),
        Error::InvalidModel { kind: BlobError::BadShapeWord("deep RFF layer width"), at: at(3) }
    );
    assert_eq!(
        edit(6, 0),
        Error::InvalidModel { kind: BlobError::BadShapeWord("deep RFF features"), at: at(6) }
    );
    assert_eq!(
        edit(7, 5),
        Error::InvalidModel { kind: BlobError::BadShapeWord("non-zero unused shape word"), at: at(7) }
    );
    assert_eq!(
        edit(6, MAX_DIM),
        Error::InvalidModel { kind: BlobError::ImpossibleShape, at: offset::N_FEATURES }
    );
    assert_eq!(
        edit(5, 65536),
        Error::InvalidModel { kind: BlobError::BadShapeWord("deep RFF too many parameters"), at: at(6) }
    );
    // A valid but different shape (another activation) disagrees with nothing in the counts,
    // so it reads; a different width changes the parameter count and is caught.
    assert_eq!(edit(4, 31), Error::InvalidModel { kind: BlobError::ImpossibleShape, at: offset::N_PARAMS });
}

/// The committed firmware blob, checked and decoded entirely at compile time.
const FIRMWARE_BLOB: &[u8] = include_bytes!("../firmware/model.bin");
const FIRMWARE_COUNT: usize =
    u32::from_le_bytes([FIRMWARE_BLOB[92], FIRMWARE_BLOB[93], FIRMWARE_BLOB[94], FIRMWARE_BLOB[95]]) as usize;
static FIRMWARE_PAYLOAD: Result<[f32; FIRMWARE_COUNT], Error> = payload_f32::<FIRMWARE_COUNT>(FIRMWARE_BLOB);

#[test]
fn compile_time_payload_matches_the_runtime_reader() {
    let payload = FIRMWARE_PAYLOAD.as_ref().unwrap();
    let mut storage = vec![0.0f32; FIRMWARE_COUNT];
    let h = read_header(FIRMWARE_BLOB).unwrap();
    match h.kind {
        ModelKind::Feature => {
            let a = read_feature::<f32, svgp::features::DeepRff>(FIRMWARE_BLOB, &mut storage).unwrap();
            let b = read_feature_in_place::<f32, svgp::features::DeepRff>(FIRMWARE_BLOB, payload).unwrap();
            assert_eq!(a.storage(), b.storage());
            assert!(core::ptr::eq(b.storage(), &payload[..]), "in place: no copy");
        }
        ModelKind::Kernel => {
            let a = read_kernel::<f32, Rbf>(FIRMWARE_BLOB, &mut storage).unwrap();
            let b = read_kernel_in_place::<f32, Rbf>(FIRMWARE_BLOB, payload).unwrap();
            assert_eq!(a.storage(), b.storage());
        }
    }
}

#[test]
fn in_place_reading_checks_what_the_const_decoder_does_not() {
    let (blob, storage) = feature_blob_f32(9);
    const N: usize = 2 + 24 + 5 * 24 + 25 + 3 * 24;
    assert_eq!(storage.len(), N);
    let payload = payload_f32::<N>(&blob).unwrap();
    assert_eq!(&payload[..], &storage[..]);
    let post = read_feature_in_place::<f32, PlainRff>(&blob[..HEADER_LEN], &payload).unwrap();
    assert_eq!(post.storage(), &storage[..]);
    // The const decoder's own errors.
    assert_eq!(
        payload_f32::<{ N - 1 }>(&blob).map(|_| ()),
        Err(Error::InvalidModel { kind: BlobError::ImpossibleShape, at: offset::COUNT })
    );
    let mut b = blob.clone();
    b[300] ^= 4;
    assert_eq!(
        payload_f32::<N>(&b).map(|_| ()),
        Err(Error::InvalidModel { kind: BlobError::ChecksumMismatch, at: blob.len() - 4 })
    );
    assert_eq!(
        payload_f32::<N>(&blob[..50]).map(|_| ()),
        Err(Error::InvalidModel { kind: BlobError::Truncated, at: 50 })
    );
    // What the in-place view checks: kind, family, shape, payload length, finiteness.
    let mut h = blob[..HEADER_LEN].to_vec();
    h[8] = 9;
    assert!(matches!(
        read_feature_in_place::<f32, PlainRff>(&h, &payload),
        Err(Error::InvalidModel { kind: BlobError::WrongFamily, at: offset::FAMILY })
    ));
    assert!(matches!(
        read_feature_in_place::<f32, PlainRff>(&blob, &payload[1..]),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut bad = payload;
    bad[7] = f32::NAN;
    assert!(matches!(
        read_feature_in_place::<f32, PlainRff>(&blob, &bad),
        Err(Error::NonFinite { index: 7, .. })
    ));
    assert!(matches!(
        read_feature_in_place::<f32, PlainRff>(&blob[..20], &payload),
        Err(Error::InvalidModel { kind: BlobError::Truncated, at: 20 })
    ));
}
