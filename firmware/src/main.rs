//! Predict from an embedded svgp model blob on a Cortex-M, with no allocator and no copy.
//!
//! The blob (`model.bin`, or `$SVGP_MODEL` at build time; written on the host by
//! `cargo run --example deploy -- --export ...`) stays in flash: `svgp::deploy::view_feature` /
//! `view_kernel` check it at start-up (header, block table, CRC-32, every value finite) and
//! return a posterior that reads its blocks in place, in whatever encoding each is stored
//! (f32, f16, bf16, or 16/8-bit integers with per-row scales). The only RAM is the prediction
//! workspace. The posterior is evaluated at 64 points of the 80 × 80 grid; results go out over
//! semihosting as hexadecimal bit patterns (exact, and no float-formatting code in flash), one
//! line per point: `P <index> <x1> <x2> <mean> <variance>`; the host check (`--check`)
//! recomputes them.
//!
//! Two boards (build.rs picks one from the target): QEMU's mps2-an386 (Cortex-M4F,
//! thumbv7em-none-eabihf, 25 MHz) and microbit (Cortex-M0, thumbv6m-none-eabi, no FPU: f32 in
//! software, 16 MHz). Instruction counts come from SysTick under `qemu -icount shift=0`: one
//! instruction per virtual nanosecond, SysTick at the core clock, so one tick is 40 (mps2) or
//! 62.5 (microbit) instructions. A calibration line times `cortex_m::asm::delay(1_000_000)`,
//! 2,000,002 instructions, so the host can check the factor (50,000 or 32,000 ticks).
#![no_std]
#![no_main]

use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprintln};
use svgp::deploy::{read_header, ModelKind, ModelShape};
#[cfg(model_deep)]
use svgp::features::DeepRff;
#[cfg(model_rbf)]
use svgp::kernel::Rbf;

/// The model blob, in flash, read in place.
static BLOB: &[u8] = include_bytes!(env!("SVGP_MODEL_PATH"));

// `WORKSPACE` (the prediction workspace), from the blob's header by build.rs, so the static
// buffer below is exactly what the model needs.
include!(concat!(env!("OUT_DIR"), "/model_size.rs"));
/// Grid points evaluated (and timed).
const POINTS: usize = 64;
/// Instructions per SysTick tick under `-icount shift=0`, as a ratio: 25 MHz core clock.
#[cfg(board_mps2)]
const INSNS_PER_TICK: (u32, u32) = (40, 1);
/// 16 MHz core clock: 62.5 instructions per tick.
#[cfg(board_microbit)]
const INSNS_PER_TICK: (u32, u32) = (125, 2);

/// SysTick counts down from 2²⁴ − 1; elapsed ticks between two readings (at most one wrap).
fn ticks(_syst: &SYST, start: u32) -> u32 {
    start.wrapping_sub(SYST::get_current()) & 0x00FF_FFFF
}

/// Instructions in `t` ticks, divided by `n`.
fn insns(t: u32, n: u32) -> u32 {
    (t as u64 * INSNS_PER_TICK.0 as u64 / (INSNS_PER_TICK.1 as u64 * n as u64)) as u32
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
    insns(ticks(syst, start), POINTS as u32)
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

    let header = match read_header(BLOB) {
        Ok(h) => h,
        Err(e) => fail("header", e),
    };
    hprintln!(
        "MODEL kind {} family {:08x} m {} j {} params {} rank {} bytes {}",
        header.kind as u8,
        header.family,
        header.n_inducing,
        header.n_features,
        header.n_params,
        header.rank,
        header.len
    );
    // Static, so the linker's .bss size is the RAM a prediction needs (no stack estimate).
    let Some(ws) = cortex_m::singleton!(: [f32; WORKSPACE] = [0.0; WORKSPACE]) else {
        fail("workspace", svgp::Error::InvalidParameter { what: "already taken", value: 0.0 })
    };

    match (header.kind, header.family) {
        #[cfg(model_rbf)]
        (ModelKind::Kernel, Rbf::FAMILY) => {
            let start = SYST::get_current();
            let post = svgp::deploy::view_kernel::<f32, Rbf>(BLOB);
            let post = match post {
                Ok(p) => p,
                Err(e) => fail("read", e),
            };
            hprintln!("ICOUNT read {}", insns(ticks(syst, start), 1));
            run(syst, true, |x| post.predict(x, ws).map(|p| (p.mean, p.variance)));
            let mean = run(syst, false, |x| post.predict_mean(x, ws).map(|m| (m, 0.0)));
            let both = run(syst, false, |x| post.predict(x, ws).map(|p| (p.mean, p.variance)));
            hprintln!("ICOUNT mean {}", mean);
            hprintln!("ICOUNT meanvar {}", both);
        }
        #[cfg(model_deep)]
        (ModelKind::Feature, DeepRff::FAMILY) => {
            let start = SYST::get_current();
            let post = svgp::deploy::view_feature::<f32, DeepRff>(BLOB);
            let post = match post {
                Ok(p) => p,
                Err(e) => fail("read", e),
            };
            hprintln!("ICOUNT read {}", insns(ticks(syst, start), 1));
            run(syst, true, |x| post.predict(x, ws).map(|p| (p.mean, p.variance)));
            let mean = run(syst, false, |x| post.predict_mean(x, ws).map(|m| (m, 0.0)));
            let both = run(syst, false, |x| post.predict(x, ws).map(|p| (p.mean, p.variance)));
            hprintln!("ICOUNT mean {}", mean);
            hprintln!("ICOUNT meanvar {}", both);
        }
        _ => fail(
            "model (no firmware support for this family)",
            svgp::Error::InvalidModel {
                kind: svgp::deploy::BlobError::WrongFamily,
                at: svgp::deploy::offset::FAMILY,
            },
        ),
    }
    hprintln!("DONE");
    debug::exit(debug::EXIT_SUCCESS);
    loop {}
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
