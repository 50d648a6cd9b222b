//! Predict from an embedded svgp model blob on a Cortex-M4F, with no allocator.
//!
//! The blob (`model.bin`, or `$SVGP_MODEL` at build time; written on the host by
//! `cargo run --example deploy -- --export ...`) is read with `svgp::deploy` into a static
//! array (or, with the `flash-storage` feature, decoded at compile time and borrowed in place
//! from flash), then the posterior is evaluated at 64 points of the 80 × 80 grid. Results go out over semihosting as hexadecimal bit patterns
//! (exact, and no float-formatting code in flash), one line per point:
//! `P <index> <x1> <x2> <mean> <variance>`; the host check (`--check`) recomputes them.
//!
//! Instruction counts come from SysTick under `qemu -icount shift=0` (one instruction per
//! virtual nanosecond; SysTick runs at the 25 MHz core clock, so one tick is 40 instructions).
//! A calibration line times `cortex_m::asm::delay(1_000_000)`, whose loop (cortex-m 0.7.10:
//! `subs; bne`, n + 1 times) executes 2,000,002 instructions, so the host can check the
//! 40-per-tick factor (50,000 ticks expected).
#![no_std]
#![no_main]

use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprintln};
#[cfg(not(feature = "flash-storage"))]
use svgp::deploy::read_header;
use svgp::deploy::{ModelKind, ModelShape};
#[cfg(model_deep)]
use svgp::features::DeepRff;
#[cfg(feature = "breakdown")]
use svgp::features::FeatureMap;
#[cfg(model_rbf)]
use svgp::kernel::Rbf;

/// The model blob, embedded in flash and read at start-up into a static RAM array.
#[cfg(not(feature = "flash-storage"))]
static BLOB: &[u8] = include_bytes!(env!("SVGP_MODEL_PATH"));

/// With `flash-storage`, the blob is checked (checksum included) and decoded at compile time
/// into a `static` f32 array that stays in flash; at start-up the posterior borrows it in place
/// (no copy, no RAM for the model). A damaged blob fails the build.
#[cfg(feature = "flash-storage")]
mod flash {
    use svgp::deploy::{payload_f32, HEADER_LEN};
    const BLOB: &[u8] = include_bytes!(env!("SVGP_MODEL_PATH"));
    pub static PAYLOAD: [f32; super::STORAGE] = match payload_f32::<{ super::STORAGE }>(BLOB) {
        Ok(p) => p,
        Err(_) => panic!("invalid model blob (SVGP_MODEL or firmware/model.bin)"),
    };
    pub static HEADER: [u8; HEADER_LEN] = {
        let mut h = [0u8; HEADER_LEN];
        let mut i = 0;
        while i < HEADER_LEN {
            h[i] = BLOB[i];
            i += 1;
        }
        h
    };
    pub const LEN: usize = BLOB.len();
}

// `STORAGE` (the payload's scalar count) and `WORKSPACE` (the prediction workspace), read from
// model.bin's header by build.rs, so the static buffers below are exactly what the model needs.
include!(concat!(env!("OUT_DIR"), "/model_size.rs"));
/// Grid points evaluated (and timed).
const POINTS: usize = 64;
/// Instructions per SysTick tick under `-icount shift=0` with a 25 MHz core clock.
const INSNS_PER_TICK: u32 = 40;

/// SysTick counts down from 2²⁴ − 1; elapsed ticks between two readings (at most one wrap).
fn ticks(_syst: &SYST, start: u32) -> u32 {
    start.wrapping_sub(SYST::get_current()) & 0x00FF_FFFF
}

/// The i-th test input: a spread of points of the 80 × 80 grid on [-1, 1]².
fn point(i: usize) -> [f32; 2] {
    let k = (i * 2557 + 11) % 6400;
    let c = |g: usize| -1.0 + 2.0 * g as f32 / 79.0;
    [c(k % 80), c(k / 80)]
}

/// Reports an error and exits with failure. Only the error's names and positions are printed:
/// its `Display` would format the offending f64 value and pull ~20 KB of float formatting into
/// flash.
fn fail(what: &str, e: svgp::Error) -> ! {
    use svgp::Error as E;
    match e {
        E::InvalidModel { kind, at } => hprintln!("ERROR {}: invalid model: {} at byte {}", what, kind, at),
        E::NonFinite { what: w, index, .. } => hprintln!("ERROR {}: non-finite {} at {}", what, w, index),
        E::DimensionMismatch { what: w, expected, found } => {
            hprintln!("ERROR {}: {} expected {} found {}", what, w, expected, found)
        }
        E::BufferTooSmall { what: w, needed, found } => {
            hprintln!("ERROR {}: {} needs {} has {}", what, w, needed, found)
        }
        E::InvalidParameter { what: w, .. } => hprintln!("ERROR {}: invalid parameter {}", what, w),
        E::NotPositiveDefinite { pivot, .. } => {
            hprintln!("ERROR {}: not positive definite at {}", what, pivot)
        }
        _ => hprintln!("ERROR {}", what),
    }
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}

/// Runs `predict` on every test point, printing when asked; returns instructions per point.
fn run<F: FnMut(&[f32; 2]) -> Result<(f32, f32), svgp::Error>>(
    syst: &SYST,
    print: bool,
    mut predict: F,
) -> u32 {
    let start = SYST::get_current();
    for i in 0..POINTS {
        let x = point(i);
        match predict(&x) {
            Ok((m, v)) if print => hprintln!(
                "P {} {:08x} {:08x} {:08x} {:08x}",
                i,
                x[0].to_bits(),
                x[1].to_bits(),
                m.to_bits(),
                v.to_bits()
            ),
            Ok(_) => {}
            Err(e) => fail("predict", e),
        }
    }
    ticks(syst, start) * INSNS_PER_TICK / POINTS as u32
}

#[entry]
fn main() -> ! {
    let Some(mut cp) = cortex_m::Peripherals::take() else {
        fail("peripherals", svgp::Error::InvalidParameter { what: "already taken", value: 0.0 })
    };
    cp.SYST.set_clock_source(SystClkSource::Core);
    cp.SYST.set_reload(0x00FF_FFFF);
    cp.SYST.clear_current();
    cp.SYST.enable_counter();
    let syst = &cp.SYST;

    let start = SYST::get_current();
    cortex_m::asm::delay(1_000_000);
    hprintln!("CAL delay1000000 ticks {}", ticks(syst, start));

    #[cfg(not(feature = "flash-storage"))]
    let (header, blob_len) = (read_header(BLOB), BLOB.len());
    #[cfg(feature = "flash-storage")]
    let (header, blob_len) = (svgp::deploy::read_header_fields(&flash::HEADER), flash::LEN);
    let header = match header {
        Ok(h) => h,
        Err(e) => fail("header", e),
    };
    hprintln!(
        "MODEL kind {} family {:08x} m {} j {} params {} count {} bytes {}",
        header.kind as u8,
        header.family,
        header.n_inducing,
        header.n_features,
        header.n_params,
        header.count,
        blob_len
    );
    // Static, so the linker's .bss size is the RAM the posterior needs (no stack estimate).
    #[cfg(not(feature = "flash-storage"))]
    let Some(storage) = cortex_m::singleton!(: [f32; STORAGE] = [0.0; STORAGE]) else {
        fail("storage", svgp::Error::InvalidParameter { what: "already taken", value: 0.0 })
    };
    let Some(ws) = cortex_m::singleton!(: [f32; WORKSPACE] = [0.0; WORKSPACE]) else {
        fail("workspace", svgp::Error::InvalidParameter { what: "already taken", value: 0.0 })
    };

    match (header.kind, header.family) {
        #[cfg(model_rbf)]
        (ModelKind::Kernel, Rbf::FAMILY) => {
            let start = SYST::get_current();
            #[cfg(not(feature = "flash-storage"))]
            let post = svgp::deploy::read_kernel::<f32, Rbf>(BLOB, storage);
            #[cfg(feature = "flash-storage")]
            let post = svgp::deploy::read_kernel_in_place::<f32, Rbf>(&flash::HEADER, &flash::PAYLOAD);
            let post = match post {
                Ok(p) => p,
                Err(e) => fail("read", e),
            };
            hprintln!("ICOUNT read {}", ticks(syst, start) * INSNS_PER_TICK);
            run(syst, true, |x| post.predict(x, ws).map(|p| (p.mean, p.variance)));
            let mean = run(syst, false, |x| post.predict_mean(x, ws).map(|m| (m, 0.0)));
            let both = run(syst, false, |x| post.predict(x, ws).map(|p| (p.mean, p.variance)));
            hprintln!("ICOUNT mean {}", mean);
            hprintln!("ICOUNT meanvar {}", both);
        }
        #[cfg(model_deep)]
        (ModelKind::Feature, DeepRff::FAMILY) => {
            let start = SYST::get_current();
            #[cfg(not(feature = "flash-storage"))]
            let post = svgp::deploy::read_feature::<f32, DeepRff>(BLOB, storage);
            #[cfg(feature = "flash-storage")]
            let post = svgp::deploy::read_feature_in_place::<f32, DeepRff>(&flash::HEADER, &flash::PAYLOAD);
            let post = match post {
                Ok(p) => p,
                Err(e) => fail("read", e),
            };
            hprintln!("ICOUNT read {}", ticks(syst, start) * INSNS_PER_TICK);
            run(syst, true, |x| post.predict(x, ws).map(|p| (p.mean, p.variance)));
            let mean = run(syst, false, |x| post.predict_mean(x, ws).map(|m| (m, 0.0)));
            let both = run(syst, false, |x| post.predict(x, ws).map(|p| (p.mean, p.variance)));
            #[cfg(feature = "breakdown")]
            breakdown(syst, &post, ws);
            hprintln!("ICOUNT mean {}", mean);
            hprintln!("ICOUNT meanvar {}", both);
        }
        _ => fail(
            "model (no firmware support for this family)",
            svgp::Error::InvalidModel { kind: svgp::deploy::BlobError::WrongFamily, at: svgp::deploy::offset::FAMILY },
        ),
    }
    hprintln!("DONE");
    debug::exit(debug::EXIT_SUCCESS);
    loop {}
}

/// Instruction counts of the deep feature map and its two main stages (the MLP; sin/cos of
/// 256 arguments), for the README's breakdown. Off by default so the footprint stays the
/// posterior's: `FIRMWARE_FEATURES=breakdown firmware/run.sh`.
#[cfg(all(feature = "breakdown", model_deep))]
fn breakdown(syst: &SYST, post: &svgp::deploy::FeaturePosterior<'_, f32, DeepRff>, ws: &mut [f32]) {
    // The feature map alone (MLP, φ·W, 256 cosines), for the breakdown.
    let (map, j) = (*post.map(), post.map().n_features());
    let feats = run(syst, false, |x| {
        let (psi, rest) = ws.split_at_mut(j);
        map.features(post.map_params(), x, psi, rest).map(|()| (psi[0], 0.0))
    });
    // Its two main stages: the MLP, and sin/cos of the 256 feature arguments.
    let mlp = map.mlp();
    let Ok(mlp_ws) = mlp.workspace_len(1) else {
        fail("breakdown", svgp::Error::SizeOverflow { what: "MLP workspace" })
    };
    let mlp_cost = run(syst, false, |x| {
        let (phi, rest) = ws.split_at_mut(mlp.output_dim());
        mlp.forward(&post.map_params()[..mlp.n_params()], x, phi, &mut rest[..mlp_ws]).map(|()| (phi[0], 0.0))
    });
    let trig = run(syst, false, |x| {
        let (z, rest) = ws.split_at_mut(j);
        let (s, c) = rest.split_at_mut(j);
        z.iter_mut().enumerate().for_each(|(k, v)| *v = x[0] * k as f32 + x[1]);
        svgp::fastmath::sin_cos_slice_f32(z, s, &mut c[..j]);
        Ok((c[0], 0.0))
    });
    hprintln!("ICOUNT mlp {}", mlp_cost);
    hprintln!("ICOUNT sincos256 {}", trig);
    hprintln!("ICOUNT features {}", feats);
}

#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    hprintln!("ERROR hard fault");
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // The location only: formatting the message could pull in float formatting.
    match info.location() {
        Some(l) => hprintln!("ERROR panic at {}:{}", l.file(), l.line()),
        None => hprintln!("ERROR panic"),
    }
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
