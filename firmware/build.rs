//! Puts memory.x on the linker path and passes cortex-m-rt's link.x from here, not from
//! .cargo/config.toml, so the ELF links correctly whatever directory cargo starts in.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    // The payload's scalar count sits at byte 92 of the header; the reader validates the rest.
    let blob = fs::read("model.bin")
        .expect("firmware/model.bin: run `cargo run --example deploy -- --export firmware/model.bin`");
    let count = blob.get(92..96).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    fs::write(out.join("model_size.rs"), format!("const STORAGE: usize = {count};\n"))
        .expect("write model_size.rs");
    if env::var("TARGET").is_ok_and(|t| t.starts_with("thumb")) {
        println!("cargo:rustc-link-arg=-Tlink.x");
    }
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=model.bin");
    println!("cargo:rerun-if-changed=build.rs");
}
