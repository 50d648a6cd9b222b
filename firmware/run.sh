#!/usr/bin/env bash
# Build the svgp firmware demo for the Cortex-M4F, run it under QEMU (mps2-an386) and check its
# predictions against the desktop's. Installs the Rust target, QEMU and binutils-arm-none-eabi
# when missing; where one cannot be had, says so and exits 0 (skipped, not failed).
#
#   firmware/run.sh                 # train + export a blob on the host, build, run, check
#   firmware/run.sh --no-export     # use the committed firmware/model.bin (+ .f64) as is
#   EXPORT_ARGS="--kernel rbf" firmware/run.sh   # extra arguments for the host export
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
target=thumbv7em-none-eabihf
export_blob=1
[[ "${1:-}" == "--no-export" ]] && export_blob=0

skip() { echo "firmware: SKIPPED: $*"; exit 0; }

# 1. Toolchain pieces.
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    rustup target add "$target" || skip "cannot install the Rust target $target"
fi
apt_updated=0
need_pkg() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    if command -v apt-get >/dev/null 2>&1; then
        local sudo=""
        [[ $(id -u) -ne 0 ]] && sudo="sudo -n"
        if [[ $apt_updated -eq 0 ]]; then $sudo apt-get update -qq || true; apt_updated=1; fi
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null || true
    fi
    command -v "$1" >/dev/null 2>&1
}
need_pkg qemu-system-arm qemu-system-arm || skip "qemu-system-arm is not available (apt-get install qemu-system-arm)"
size_tool=""
if need_pkg arm-none-eabi-size binutils-arm-none-eabi; then size_tool=arm-none-eabi-size
elif command -v llvm-size >/dev/null 2>&1; then size_tool=llvm-size; fi

# 2. The model blob and the desktop reference, from the host.
cd "$root"
# The fresh blob goes to firmware/target/ (the committed one stays untouched). Training reads
# the reference's data from the repository (tests/data/); should it ever be missing, the
# committed blob (and its .f64 twin, the desktop reference) is used.
model="$here/model.bin"
if [[ $export_blob -eq 1 ]]; then
    mkdir -p "$here/target"
    # shellcheck disable=SC2086
    if out=$(cargo run --release --quiet --example deploy -- ${EXPORT_ARGS:-} --export "$here/target/model.bin" 2>&1); then
        echo "$out"
        model="$here/target/model.bin"
    elif grep -q "reading fixture" <<<"$out"; then
        echo "firmware: reference data not found; using the committed firmware/model.bin"
    else
        echo "$out"; exit 1
    fi
fi
export SVGP_MODEL="$model"

# 3. The firmware (build.rs passes the linker script; no .cargo/config.toml needed).
# FIRMWARE_FEATURES=breakdown adds per-stage instruction counts (and their code).
cargo build --release --quiet --manifest-path firmware/Cargo.toml --target "$target" \
    ${FIRMWARE_FEATURES:+--features "$FIRMWARE_FEATURES"}
elf="$here/target/$target/release/svgp-firmware"
if [[ -n "$size_tool" ]]; then
    echo "--- footprint ($size_tool): text = flash (code + model blob), bss = RAM (storage + workspace)"
    "$size_tool" "$elf"
fi

# 4. Run under QEMU: deterministic instruction counting, stdin closed, hard time limit.
log="$here/target/qemu.log"
timeout 120 qemu-system-arm -M mps2-an386 -cpu cortex-m4 -display none -monitor none -serial none \
    -semihosting -icount shift=0 -kernel "$elf" </dev/null >"$log" 2>&1 || {
    echo "firmware: QEMU run failed (exit $?):"; cat "$log"; exit 1; }
grep -v '^P ' "$log"
grep -q '^CAL delay1000000 ticks 50000$' "$log" ||
    echo "firmware: WARNING: SysTick calibration is not 40 instructions per tick; ICOUNT lines are off"

# 5. Compare with the desktop predictions.
cargo run --release --quiet --example deploy -- --check "$log" --model "$model"
