//! The model format (version 2): round trips in every encoding, and one typed error per kind
//! of damage.
// Exports blobs with `feature_to_bytes`/`kernel_to_bytes`, which need `alloc`.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::deploy::*;
use common::fixture::*;
use proptest::prelude::*;
use svgp::deploy::*;
use svgp::kernel::Rbf;

/// A PlainRff posterior (D = 2, J = 24, M = 5) built in f64, and its blob under `plan`.
fn feature_blob(seed: u64, plan: &Plan) -> (Vec<u8>, Vec<f64>) {
    let r = random_feature_model(seed, 2, 24, 5);
    let model = FeatureModel::from_flat(r.map, 5, 1e-6, &r.flat).unwrap();
    let mut storage = vec![0.0f64; FeaturePosterior::<f64, PlainRff>::storage_len(&r.map, 5).unwrap()];
    let post =
        FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    (feature_to_bytes(&post, plan).unwrap(), storage.clone())
}

fn f32_blob(seed: u64) -> Vec<u8> {
    feature_blob(seed, &Plan::uniform(Encoding::F32)).0
}

/// Rewrites the trailing CRC so that a deliberate header/payload edit reaches the later checks.
fn reseal(blob: &mut [u8]) {
    let n = blob.len() - 4;
    let crc = crc32(&blob[..n]);
    blob[n..].copy_from_slice(&crc.to_le_bytes());
}

/// Reads as f32 in place and predicts at one point.
fn read(blob: &[u8]) -> Result<(f32, f32), Error> {
    let post = view_feature::<f32, PlainRff>(blob)?;
    let mut ws = vec![0.0f32; post.workspace_len()?];
    post.predict(&[0.3, -0.2], &mut ws).map(|p| (p.mean, p.variance))
}

fn model_err(kind: BlobError, at: usize) -> Result<(f32, f32), Error> {
    Err(Error::InvalidModel { kind, at })
}

/// Start of the blocks' bytes: the fixed header and B table entries.
fn data_start(blob: &[u8]) -> usize {
    HEADER_LEN + ENTRY_LEN * read_header(blob).unwrap().n_blocks
}

#[test]
fn every_encoding_round_trips_and_rewrites_to_the_same_bytes() {
    for enc in Encoding::ALL {
        let plan = Plan::uniform(enc);
        let (blob, storage) = feature_blob(1, &plan);
        let h = read_header(&blob).unwrap();
        assert_eq!(
            (h.kind, h.count, h.likelihood),
            (ModelKind::Feature, storage.len(), Likelihood::Gaussian)
        );
        assert_eq!(h.len, blob.len());
        assert!(block_entries(&blob, &h).all(|e| e.encoding == enc));
        // In place and decoded into RAM: the same posterior, the same predictions.
        let view = view_feature::<f64, PlainRff>(&blob).unwrap();
        let mut store = vec![0.0f64; h.count];
        let copied = read_feature::<f64, PlainRff>(&blob, &mut store).unwrap();
        assert_eq!(view.map(), &PlainRff { d: 2, j: 24 });
        let mut ws = vec![0.0; view.workspace_len().unwrap()];
        for x in [[0.3, -0.2], [-1.0, 0.7]] {
            let (a, b) = (view.predict(&x, &mut ws).unwrap(), copied.predict(&x, &mut ws).unwrap());
            // In place, integer blocks take their operand in 26-bit fixed point (Block::row_dot):
            // ~1.5e-8 of the operand's largest value; decoded, they are plain f64 products.
            let tol = if matches!(enc, Encoding::I16 | Encoding::I8) { 1e-6 } else { 1e-12 };
            let (dm, dv) = ((a.mean - b.mean).abs(), (a.variance - b.variance).abs());
            assert!(dm < tol && dv < tol, "{enc:?}: {dm:e} {dv:e} ({a:?} vs {b:?})");
        }
        // Re-encoding what was read gives the same bytes (the encoders are idempotent).
        assert_eq!(feature_to_bytes(&view, &plan).unwrap(), blob, "{enc:?}");
        assert_eq!(feature_to_bytes(&copied, &plan).unwrap(), blob, "{enc:?}");
        // f32 evaluation where the encoding fits it.
        if enc != Encoding::F64 {
            read(&blob).unwrap();
        }
    }
}

#[test]
fn f32_blob_matches_the_f32_posterior_bit_for_bit() {
    let r = random_feature_model(2, 2, 24, 5);
    let model = FeatureModel::from_flat(r.map, 5, 1e-6, &r.flat).unwrap();
    let mut storage = vec![0.0f32; FeaturePosterior::<f32, PlainRff>::storage_len(&r.map, 5).unwrap()];
    let post =
        FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len().unwrap()])
            .unwrap();
    let blob = feature_to_bytes(&post, &Plan::uniform(Encoding::F32)).unwrap();
    let view = view_feature::<f32, PlainRff>(&blob).unwrap();
    let mut ws = vec![0.0f32; post.workspace_len().unwrap()];
    for x in [[0.3f32, -0.2], [0.9, 0.1]] {
        assert_eq!(post.predict(&x, &mut ws).unwrap(), view.predict(&x, &mut ws).unwrap());
    }
}

#[test]
fn f64_blocks_are_not_read_as_f32_and_kinds_do_not_mix() {
    let (blob, _) = feature_blob(2, &Plan::uniform(Encoding::F32).with(Role::Mean, Encoding::F64));
    // w is block 2: its table entry is where the error points.
    assert_eq!(read(&blob), model_err(BlobError::WrongScalar, offset::TABLE + 2 * ENTRY_LEN));
    view_feature::<f64, PlainRff>(&blob).unwrap();

    let params = [0.1, -0.5, 0.0, 0.5, 1.0, -1.0, 0.5, 0.1, 0.3, -3.0];
    let km = KernelModel::from_flat(Rbf::new(1), 2, 1e-6, &params).unwrap();
    let mut ks = vec![0.0f64; KernelPosterior::<f64, Rbf>::storage_len(&Rbf::new(1), 2).unwrap()];
    let kp = KernelPosterior::build(&km, &mut ks, &mut vec![0.0; km.build_workspace_len().unwrap()]).unwrap();
    let kblob = kernel_to_bytes(&kp, &Plan::uniform(Encoding::F64)).unwrap();
    let mut kback = vec![0.0f64; ks.len()];
    assert_eq!(read_kernel::<f64, Rbf>(&kblob, &mut kback).unwrap().kernel(), &Rbf::new(1));
    assert_eq!(kback, ks);
    assert_eq!(
        view_feature::<f64, PlainRff>(&kblob).map(|_| ()),
        Err(Error::InvalidModel { kind: BlobError::WrongKind, at: offset::KIND })
    );
}

#[test]
fn every_truncation_is_reported_as_truncated() {
    let blob = f32_blob(3);
    for n in 0..blob.len() {
        assert_eq!(read(&blob[..n]), model_err(BlobError::Truncated, n), "prefix {n}");
    }
}

#[test]
fn header_damage_gets_its_own_error() {
    let blob = f32_blob(4);
    let edit = |at: usize, bytes: &[u8]| {
        let mut b = blob.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        reseal(&mut b);
        read(&b)
    };
    let u32le = |v: u32| v.to_le_bytes();
    let entry = |i: usize| offset::TABLE + ENTRY_LEN * i;
    assert_eq!(edit(0, b"SVGQ"), model_err(BlobError::WrongMagic, offset::MAGIC));
    // Version 1 blobs are not read (see the format's module docs), nor future ones.
    assert_eq!(edit(4, &1u16.to_le_bytes()), model_err(BlobError::UnsupportedVersion, offset::VERSION));
    assert_eq!(edit(4, &3u16.to_le_bytes()), model_err(BlobError::UnsupportedVersion, offset::VERSION));
    assert_eq!(edit(6, &[1]), model_err(BlobError::ImpossibleShape, offset::RESERVED));
    assert_eq!(edit(7, &[9]), model_err(BlobError::WrongKind, offset::KIND));
    assert_eq!(edit(8, &u32le(7)), model_err(BlobError::WrongFamily, offset::FAMILY));
    assert_eq!(edit(80, &u32le(0)), model_err(BlobError::ImpossibleShape, offset::N_INDUCING));
    assert_eq!(edit(92, &u32le(6)), model_err(BlobError::ImpossibleShape, offset::RANK));
    // The likelihood: an unknown id, a parameter count that is not the likelihood's.
    assert_eq!(
        edit(96, &7u16.to_le_bytes()),
        model_err(BlobError::UnsupportedLikelihood, offset::LIKELIHOOD)
    );
    // A likelihood the crate trains (Bernoulli logit, LikelihoodId 2) that deployment cannot serve.
    assert_eq!(
        edit(96, &2u16.to_le_bytes()),
        model_err(BlobError::UnsupportedLikelihood, offset::LIKELIHOOD)
    );
    assert_eq!(
        u16::from_le_bytes([blob[96], blob[97]]),
        u16::from(svgp::likelihood::LikelihoodId::Gaussian.as_u8())
    );
    assert_eq!(
        edit(98, &2u16.to_le_bytes()),
        model_err(BlobError::ImpossibleShape, offset::LIKELIHOOD_PARAMS)
    );
    // The block table: count, encoding code, reserved bytes, shapes.
    assert_eq!(edit(100, &u32le(5)), model_err(BlobError::BlockMismatch, offset::N_BLOCKS));
    assert_eq!(edit(100, &u32le(99)), model_err(BlobError::BlockMismatch, offset::N_BLOCKS));
    assert_eq!(edit(entry(2), &[9]), model_err(BlobError::UnsupportedEncoding, entry(2)));
    assert_eq!(edit(entry(2), &[0]), model_err(BlobError::UnsupportedEncoding, entry(2)));
    assert_eq!(edit(entry(3) + 2, &[1]), model_err(BlobError::UnsupportedEncoding, entry(3) + 1));
    assert_eq!(edit(entry(2) + 8, &u32le(23)), model_err(BlobError::BlockMismatch, entry(2)));
    assert_eq!(edit(entry(5) + 4, &u32le(2)), model_err(BlobError::BlockMismatch, offset::N_PARAMS));
    // An encoding with a different size: the blob's length no longer matches.
    assert_eq!(edit(entry(2), &[Encoding::F16.code()]), model_err(BlobError::TrailingBytes, blob.len() - 48));
    // Shapes: unused words, the family's own rules, disagreement with the counts.
    assert_eq!(
        edit(16 + 4 * 5, &u32le(1)),
        model_err(BlobError::BadShapeWord("non-zero unused shape word"), 36)
    );
    assert_eq!(edit(16, &u32le(0)), model_err(BlobError::BadShapeWord("test map input dimension"), 16));
    assert_eq!(edit(16, &u32le(3)), model_err(BlobError::ImpossibleShape, offset::INPUT_DIM));
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
fn non_finite_values_are_reported_with_their_index() {
    // f32: index k of the storage order.
    let blob = f32_blob(5);
    let start = data_start(&blob);
    for (k, bad) in [(3usize, f32::NAN), (40, f32::INFINITY), (0, f32::NEG_INFINITY)] {
        let mut b = blob.clone();
        b[start + 4 * k..start + 4 * k + 4].copy_from_slice(&bad.to_le_bytes());
        reseal(&mut b);
        match read(&b) {
            Err(Error::NonFinite { index, .. }) => assert_eq!(index, k),
            other => panic!("expected NonFinite at {k}, got {other:?}"),
        }
    }
    // f16: an all-ones exponent is ±∞ or NaN, not a large number.
    let (blob, _) = feature_blob(5, &Plan::uniform(Encoding::F16));
    let start = data_start(&blob);
    let mut b = blob.clone();
    b[start + 2 * 7..start + 2 * 7 + 2].copy_from_slice(&0x7C00u16.to_le_bytes());
    reseal(&mut b);
    assert!(matches!(read(&b), Err(Error::NonFinite { index: 7, .. })), "{:?}", read(&b));
    // i16: a NaN row scale. Block 0 (σ², 1 row) starts with its scale.
    let (blob, _) = feature_blob(5, &Plan::uniform(Encoding::I16));
    let start = data_start(&blob);
    let mut b = blob.clone();
    b[start..start + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    reseal(&mut b);
    assert!(matches!(read(&b), Err(Error::NonFinite { index: 0, .. })), "{:?}", read(&b));
}

#[test]
fn posterior_values_the_reader_cannot_use_are_rejected() {
    // σ² ≤ 0 and σ_n² ≤ 0 (blocks 0 and 1 of an f32 blob).
    let blob = f32_blob(6);
    let start = data_start(&blob);
    for (k, what) in [(0usize, "kernel variance"), (1, "noise variance")] {
        let mut b = blob.clone();
        b[start + 4 * k..start + 4 * k + 4].copy_from_slice(&(-1.0f32).to_le_bytes());
        reseal(&mut b);
        assert_eq!(read(&b), Err(Error::InvalidParameter { what, value: -1.0 }));
    }
}

#[test]
fn storage_too_small_is_a_buffer_error() {
    let (blob, storage) = feature_blob(6, &Plan::uniform(Encoding::F32));
    let mut small = vec![0.0f32; storage.len() - 1];
    assert!(matches!(
        read_feature::<f32, PlainRff>(&blob, &mut small),
        Err(Error::BufferTooSmall { needed, .. }) if needed == storage.len()
    ));
}

#[test]
fn every_single_byte_change_is_rejected() {
    // CRC-32 catches every burst of ≤ 32 bits; the header checks catch the rest first.
    for plan in [Plan::uniform(Encoding::F32), Plan::compact()] {
        let (blob, _) = feature_blob(7, &plan);
        for i in 0..blob.len() {
            for flip in [0x01u8, 0x80, 0xFF] {
                let mut b = blob.clone();
                b[i] ^= flip;
                assert!(read(&b).is_err(), "byte {i} ^ {flip:#x} accepted");
            }
        }
    }
}

#[test]
fn unaligned_blob_reads_the_same() {
    let (blob, _) = feature_blob(8, &Plan::compact());
    let mut shifted = vec![0u8; blob.len() + 3];
    shifted[3..].copy_from_slice(&blob);
    assert_eq!(read(&shifted[3..]).unwrap(), read(&blob).unwrap());
}

#[test]
fn values_an_encoding_cannot_hold_are_refused_by_the_writer() {
    let params = [10.0, -0.5, 0.0, 0.5, 1.0, -1.0, 0.5, 0.1, 0.3, -3.0]; // σ² = e¹⁰ ≈ 22026
    let km = KernelModel::from_flat(Rbf::new(1), 2, 1e-6, &params).unwrap();
    let mut ks = vec![0.0f64; KernelPosterior::<f64, Rbf>::storage_len(&Rbf::new(1), 2).unwrap()];
    let kp = KernelPosterior::build(&km, &mut ks, &mut vec![0.0; km.build_workspace_len().unwrap()]).unwrap();
    // α grows with σ²: beyond ±65504 half precision cannot hold it.
    let big =
        KernelModel::from_flat(Rbf::new(1), 2, 1e-6, &[0.0, -0.5, 0.0, 0.5, 1e6, -1e6, 0.5, 0.1, 0.3, -3.0])
            .unwrap();
    let mut bs = vec![0.0f64; KernelPosterior::<f64, Rbf>::storage_len(&Rbf::new(1), 2).unwrap()];
    let bp =
        KernelPosterior::build(&big, &mut bs, &mut vec![0.0; big.build_workspace_len().unwrap()]).unwrap();
    assert!(matches!(
        kernel_to_bytes(&bp, &Plan::uniform(Encoding::F16)),
        Err(Error::InvalidParameter { what: "value out of the encoding's range", .. })
    ));
    kernel_to_bytes(&kp, &Plan::uniform(Encoding::F16)).unwrap();
    let mut out = vec![0u8; 10];
    assert!(matches!(write_kernel(&kp, &Plan::compact(), &mut out), Err(Error::BufferTooSmall { .. })));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = read(&bytes);
        let _ = view_kernel::<f64, Rbf>(&bytes);
    }

    #[test]
    fn valid_header_with_random_edits_never_panics(
        seed in any::<u64>(),
        enc in 0usize..6,
        edits in proptest::collection::vec((0usize..200, any::<u8>()), 1..6),
    ) {
        let (mut blob, _) = feature_blob(seed % 16, &Plan::uniform(Encoding::ALL[enc]));
        for (at, v) in edits {
            let at = at % blob.len();
            blob[at] = v;
        }
        reseal(&mut blob);
        let _ = read(&blob);
        if let Ok(post) = view_feature::<f64, PlainRff>(&blob) {
            let mut ws = vec![0.0; post.workspace_len().unwrap()];
            let _ = post.predict(&[0.1, 0.2], &mut ws);
        }
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
    let blob = feature_to_bytes(&post, &Plan::compact()).unwrap();
    let view = view_feature::<f32, DeepRff>(&blob).unwrap();
    assert_eq!(view.map(), &map);
    // The table: 5 posterior blocks, then per layer weight and bias, W, b, ln ℓ.
    let h = read_header(&blob).unwrap();
    let shapes: Vec<_> = block_entries(&blob, &h).map(|e| (e.rows, e.cols)).collect();
    assert_eq!(
        shapes,
        [
            (1, 1),
            (1, 1),
            (1, 256),
            (1, 30),
            (30, 256),
            (32, 2),
            (1, 32),
            (32, 32),
            (1, 32),
            (8, 32),
            (1, 8),
            (8, 256),
            (1, 256),
            (1, 1)
        ]
    );
    // Shape words: [layers 3, activation 1, 2, 32, 32, 8, J 256].
    let word = |i: usize| u32::from_le_bytes(blob[16 + 4 * i..20 + 4 * i].try_into().unwrap());
    assert_eq!((0..7).map(word).collect::<Vec<_>>(), [3, 1, 2, 32, 32, 8, 256]);
    let edit = |word_index: usize, v: u32| {
        let mut b = blob.clone();
        b[16 + 4 * word_index..20 + 4 * word_index].copy_from_slice(&v.to_le_bytes());
        reseal(&mut b);
        view_feature::<f32, DeepRff>(&b).map(|_| ()).unwrap_err()
    };
    let at = |w: usize| 16 + 4 * w;
    let bad = |what, w| Error::InvalidModel { kind: BlobError::BadShapeWord(what), at: at(w) };
    assert_eq!(edit(0, 0), bad("deep RFF layer count", 0));
    assert_eq!(edit(0, 99), bad("deep RFF layer count", 0));
    assert_eq!(edit(1, 6), bad("deep RFF activation", 1));
    assert_eq!(edit(3, 0), bad("deep RFF layer width", 3));
    assert_eq!(edit(6, 0), bad("deep RFF features", 6));
    assert_eq!(edit(7, 5), bad("non-zero unused shape word", 7));
    assert_eq!(
        edit(6, MAX_DIM),
        Error::InvalidModel { kind: BlobError::ImpossibleShape, at: offset::N_FEATURES }
    );
    assert_eq!(edit(5, 65536), bad("deep RFF too many parameters", 6));
    // Another activation changes no size, so it reads; a different width changes the
    // parameter count and is caught.
    assert_eq!(edit(4, 31), Error::InvalidModel { kind: BlobError::ImpossibleShape, at: offset::N_PARAMS });
    // A table that splits the map's parameters differently: caught at the first entry that
    // differs (in f32, so the block's bytes keep their length; i16 would add row scales and
    // the blob's length would no longer match its table).
    let mut b = feature_to_bytes(&post, &Plan::uniform(Encoding::F32)).unwrap();
    let e5 = offset::TABLE + 5 * ENTRY_LEN;
    b[e5 + 4..e5 + 12].copy_from_slice(&[2, 0, 0, 0, 32, 0, 0, 0]); // (32, 2) → (2, 32)
    reseal(&mut b);
    assert_eq!(
        view_feature::<f32, DeepRff>(&b).map(|_| ()),
        Err(Error::InvalidModel { kind: BlobError::BlockMismatch, at: e5 })
    );
}
