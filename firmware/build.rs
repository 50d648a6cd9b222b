//! Puts the board's memory.x on the linker path and passes cortex-m-rt's link.x from here,
//! not from .cargo/config.toml, so the ELF links correctly whatever directory cargo starts in.
//! The board follows the target: thumbv7em-none-eabihf runs on QEMU's mps2-an386 (Cortex-M4F,
//! 25 MHz), thumbv6m-none-eabi on its microbit (Cortex-M0, 16 MHz, 256 KiB flash, 16 KiB RAM).
//!
//! It also reads the blob's header with svgp itself (a host build of the same reader) and
//! writes the exact workspace length the firmware's static buffer needs, so the linker's .bss
//! is the RAM a prediction really uses. A blob the reader rejects fails the build here, before
//! it can reach a device.

use std::{env, fs, path::PathBuf};

use svgp::deploy::{read_header, FeaturePosterior, KernelPosterior, ModelKind, ModelShape, SHAPE_WORDS};
use svgp::features::DeepRff;
use svgp::kernel::Rbf;

/// (workspace length, cfg naming the model type).
fn buffers(blob: &[u8]) -> Result<(usize, &'static str), String> {
    let h = read_header(blob).map_err(|e| e.to_string())?;
    let words: &[u32; SHAPE_WORDS] = &h.shape;
    let m = h.n_inducing as usize;
    let (ws, cfg) = match (h.kind, h.family) {
        (ModelKind::Feature, DeepRff::FAMILY) => {
            let map = DeepRff::decode_shape(words).map_err(|e| e.to_string())?;
            let ws =
                FeaturePosterior::<f32, DeepRff>::workspace_len_for(&map, m).map_err(|e| e.to_string())?;
            (ws, "model_deep")
        }
        (ModelKind::Kernel, Rbf::FAMILY) => {
            let k = Rbf::decode_shape(words).map_err(|e| e.to_string())?;
            (KernelPosterior::<f32, Rbf>::workspace_len_for(&k, m).map_err(|e| e.to_string())?, "model_rbf")
        }
        _ => return Err(format!("family {:#x} has no firmware support", h.family)),
    };
    Ok((ws, cfg))
}

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let target = env::var("TARGET").unwrap_or_default();
    // (memory map, board cfg): the microbit for the Cortex-M0, mps2-an386 otherwise.
    let (memory, board) = if target.starts_with("thumbv6m") {
        ("memory-microbit.x", "board_microbit")
    } else {
        ("memory-mps2.x", "board_mps2")
    };
    fs::copy(memory, out.join("memory.x")).expect("copy memory.x");
    println!("cargo::rustc-check-cfg=cfg(board_microbit, board_mps2)");
    println!("cargo:rustc-cfg={board}");
    println!("cargo:rustc-link-search={}", out.display());
    if env::var("TARGET").is_ok_and(|t| t.starts_with("thumb")) {
        println!("cargo:rustc-link-arg=-Tlink.x");
    }
    // The blob to embed: $SVGP_MODEL (run.sh points it at a freshly exported one) or the
    // committed firmware/model.bin.
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let model = env::var_os("SVGP_MODEL").map_or_else(|| manifest.join("model.bin"), PathBuf::from);
    let model = fs::canonicalize(&model).unwrap_or_else(|e| panic!("model blob {}: {e}", model.display()));
    let blob = fs::read(&model).unwrap_or_else(|e| panic!("model blob {}: {e}", model.display()));
    println!("cargo:rustc-env=SVGP_MODEL_PATH={}", model.display());
    println!("cargo:rerun-if-env-changed=SVGP_MODEL");
    println!("cargo:rerun-if-changed={}", model.display());
    let (workspace, model) = buffers(&blob).unwrap_or_else(|e| panic!("{}: {e}", model.display()));
    // Only the embedded model's code is compiled in (the footprint is that model's).
    println!("cargo::rustc-check-cfg=cfg(model_deep, model_rbf)");
    println!("cargo:rustc-cfg={model}");
    fs::write(out.join("model_size.rs"), format!("const WORKSPACE: usize = {workspace};\n"))
        .expect("write model_size.rs");
    println!("cargo:rerun-if-changed=memory-mps2.x");
    println!("cargo:rerun-if-changed=memory-microbit.x");
    println!("cargo:rerun-if-changed=build.rs");
}
