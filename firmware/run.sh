#!/usr/bin/env bash
# Build the svgp firmware for each (target, model), run it under QEMU and check its predictions
# against the desktop's. Targets and boards:
#   thumbv7em-none-eabihf  Cortex-M4F, QEMU -M mps2-an386 (25 MHz: 40 instructions a SysTick tick)
#   thumbv6m-none-eabi     Cortex-M0 without FPU, QEMU -M microbit (16 MHz: 62.5 a tick;
#                          256 KiB flash, 16 KiB RAM)
# Installs the Rust targets, QEMU and binutils-arm-none-eabi when missing; where one cannot be
# had, prints "firmware: SKIPPED: ..." and exits 0 (skipped, not failed).
#
#   firmware/run.sh                  # all of: thumbv7em-none-eabihf:deep thumbv6m-none-eabi:rbf thumbv6m-none-eabi:deep
#   firmware/run.sh --no-export      # the committed blobs (firmware/model.bin, model-rbf.bin) as they are
#   firmware/run.sh thumbv6m-none-eabi:rbf       # one configuration
#   PRECISION=f32 firmware/run.sh    # another storage plan for the exported blobs (deploy --precision)
#
# Ends with one machine-readable line per configuration:
#   firmware: target=T model=M board=B flash=… ram=… blob=… instr_read=… instr_mean=… instr_mean_var=… max_dmean=… max_dvar=…
# flash = text (code + the model blob, read in place), ram = bss (the static prediction
# workspace and the runtime's statics; the stack is not included), instructions per
# prediction averaged over 64 grid points, max_dmean / max_dvar (of the prior variance σ²)
# against the desktop f64 model at those points.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
export_blob=1
configs=()
for a in "$@"; do
    case "$a" in
        --no-export) export_blob=0 ;;
        *:*) configs+=("$a") ;;
        *) echo "usage: firmware/run.sh [--no-export] [TARGET:deep|rbf ...]" >&2; exit 2 ;;
    esac
done
[[ ${#configs[@]} -eq 0 ]] && configs=(thumbv7em-none-eabihf:deep thumbv6m-none-eabi:rbf thumbv6m-none-eabi:deep)

skip() { echo "firmware: SKIPPED: $*"; exit 0; }

# 1. Toolchain pieces.
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

cd "$root"
mkdir -p "$here/target"

# 2. The model blobs and their f64 references, from the host (once per model). Training reads
# the reference's data from the repository (tests/data/); should it be missing, the committed
# blob is used.
declare -A blob_of
blob_for() { # model
    local model=$1 committed="$here/model.bin" args=()
    [[ $model == rbf ]] && committed="$here/model-rbf.bin" && args=(--kernel rbf)
    [[ -n "${PRECISION:-}" ]] && args+=(--precision "$PRECISION")
    if [[ $export_blob -eq 1 ]]; then
        local fresh="$here/target/model-$model.bin" out
        if out=$(cargo run --release --quiet --example deploy -- "${args[@]}" --export "$fresh" 2>&1); then
            echo "$out" >&2
            echo "$fresh"; return
        elif grep -q "reading fixture" <<<"$out"; then
            echo "firmware: reference data not found; using the committed $committed" >&2
        else
            echo "$out" >&2; return 1
        fi
    fi
    echo "$committed"
}

summary=()
for config in "${configs[@]}"; do
    target=${config%%:*} model=${config#*:}
    case "$target" in
        thumbv7em-none-eabihf) board=mps2-an386 qemu_args=(-M mps2-an386 -cpu cortex-m4) cal=50000 ;;
        thumbv6m-none-eabi) board=microbit qemu_args=(-M microbit) cal=32000 ;;
        *) echo "firmware: unknown target $target" >&2; exit 2 ;;
    esac
    [[ $model == deep || $model == rbf ]] || { echo "firmware: unknown model $model" >&2; exit 2; }
    echo "=== firmware: $target ($board), $model model"
    if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
        rustup target add "$target" || skip "cannot install the Rust target $target"
    fi
    if [[ -z "${blob_of[$model]:-}" ]]; then blob_of[$model]=$(blob_for "$model"); fi
    blob=${blob_of[$model]}

    # 3. The firmware (build.rs passes the board's linker script and sizes the workspace).
    SVGP_MODEL="$blob" cargo build --release --quiet --manifest-path firmware/Cargo.toml --target "$target"
    elf="$here/target/$target/release/svgp-firmware"
    flash=NA ram=NA
    if [[ -n "$size_tool" ]]; then
        echo "--- footprint ($size_tool): text = flash (code + model blob), bss = RAM (workspace + statics)"
        sizes=$("$size_tool" "$elf")
        echo "$sizes"
        read -r flash data ram _ < <(tail -1 <<<"$sizes")
        flash=$((flash + data)) ram=$((ram + data))
    fi

    # 4. Run under QEMU: deterministic instruction counting, stdin closed, hard time limit.
    log="$here/target/qemu-$target-$model.log"
    timeout 300 qemu-system-arm "${qemu_args[@]}" -display none -monitor none -serial none \
        -semihosting -icount shift=0 -kernel "$elf" </dev/null >"$log" 2>&1 || {
        echo "firmware: QEMU run failed (exit $?):"; cat "$log"; exit 1; }
    grep -v '^P ' "$log"
    grep -q "^CAL delay1000000 ticks $cal\$" "$log" ||
        echo "firmware: WARNING: SysTick calibration is not $cal ticks; ICOUNT lines are off"

    # 5. Compare with the desktop predictions (fails the run beyond the bounds).
    check=$(cargo run --release --quiet --example deploy -- --check "$log" --model "$blob")
    echo "$check"
    field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
    icount() { sed -n "s/^ICOUNT $1 //p" "$log"; }
    line=$(grep '^CHECK ' <<<"$check")
    summary+=("firmware: target=$target model=$model board=$board flash=$flash ram=$ram blob=$(stat -c %s "$blob") instr_read=$(icount read) instr_mean=$(icount mean) instr_mean_var=$(icount meanvar) max_dmean=$(field max_dmean "$line") max_dvar=$(field max_dvar "$line")")
done

for s in "${summary[@]}"; do echo "$s"; done
