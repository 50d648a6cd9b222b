#!/usr/bin/env bash
# Per-step training time of svgp against GPyTorch, side by side on this machine: ARD RBF and
# ARD Matérn-5/2 on a synthetic set (N = 354, D = 10) and the CO2 composite kernel
# (RBF trend + periodic × RBF, the weekly Mauna Loa record's 1,780 training weeks, D = 1);
# whitened SVGP, M = 50, Adam lr 1e-2, full batch, f64 on both sides.
#
#   bash benches/gpytorch_side_by_side.sh                 # 200 steps, 3 interleaved rounds
#   ROUNDS=5 STEPS=300 bash benches/gpytorch_side_by_side.sh
#
# The Rust side (svgp-bench's `kernel_steps` binary) writes the data files, the Python side
# (benches/gpytorch_reference.py) reads them: same data, same initial inducing inputs and
# hyperparameters (the first losses agree to GPyTorch's random 1e-3 jitter of the variational
# mean). Each side reports the median over its steps; the table shows the median over rounds
# (the rounds alternate svgp, GPyTorch default threads, GPyTorch one thread).
#
# Environment:
#   GPYTORCH_VENV  virtualenv with torch + gpytorch (default: one this script creates once in
#                  target/gpytorch-venv; set it to reuse one, e.g. ~/.cache/svgp-gpytorch-venv)
#   CO2_CSV        weekly CO2 record (default examples/data/co2_weekly.csv)
#   STEPS          timed training steps per run (default 200)
#   ROUNDS         interleaved rounds (default 3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GPYTORCH_VENV:-$here/target/gpytorch-venv}"
CO2_CSV="${CO2_CSV:-$here/examples/data/co2_weekly.csv}"
STEPS="${STEPS:-200}"
ROUNDS="${ROUNDS:-3}"
data="$here/target/gpytorch-side-by-side"

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating the GPyTorch virtualenv in $VENV (one-off, a large download: ~5.6 GB)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q torch gpytorch
fi
if [ ! -f "$CO2_CSV" ]; then
    echo "missing: the weekly CO2 record at $CO2_CSV (set CO2_CSV=/path/to/co2_weekly.csv)" >&2
    exit 2
fi

cargo build --release -p svgp-bench --bin kernel_steps --manifest-path "$here/Cargo.toml" >&2
ours="$here/target/release/kernel_steps"
"$ours" --write-data "$data" --co2 "$CO2_CSV"
py="$VENV/bin/python"
ref="$here/benches/gpytorch_reference.py"

field() { "$py" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
median() { "$py" -c 'import statistics,sys; print(statistics.median(float(v) for v in sys.argv[1:]))' "$@"; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cpus, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$("$py" -c 'import torch, gpytorch; print(f"torch {torch.__version__}, gpytorch {gpytorch.__version__}, torch default threads {torch.get_num_threads()}")' 2>/dev/null)"
echo "M 50, Adam 1e-2, f64, $STEPS steps per run, median of $ROUNDS interleaved rounds; svgp on 1 thread"
printf '%-9s %5s %11s %15s %15s %12s %12s %12s %12s\n' kernel N "svgp ms" "GPyTorch ms" "GPyT 1thr ms" "ratio" "ratio 1thr" "svgp loss0" "GPyT loss0"
for kernel in rbf-ard matern52 co2; do
    s=(); g=(); g1=()
    for _ in $(seq "$ROUNDS"); do
        line="$("$ours" --kernel "$kernel" --data "$data" --steps "$STEPS")"
        s+=("$(field "$line" step_ms)"); n="$(field "$line" n)"; l0="$(field "$line" loss0)"
        gl="$("$py" "$ref" --kernel "$kernel" --data "$data" --steps "$STEPS" 2>/dev/null | tail -n 1)"
        g+=("$(field "$gl" step_ms)"); gl0="$(field "$gl" loss0)"
        gl1="$("$py" "$ref" --kernel "$kernel" --data "$data" --steps "$STEPS" --threads 1 2>/dev/null | tail -n 1)"
        g1+=("$(field "$gl1" step_ms)")
    done
    sm="$(median "${s[@]}")"; gm="$(median "${g[@]}")"; g1m="$(median "${g1[@]}")"
    printf '%-9s %5s %11.3f %15.2f %15.2f %11.1fx %11.1fx %12.1f %12.1f\n' "$kernel" "$n" "$sm" "$gm" "$g1m" \
        "$("$py" -c "print($gm / $sm)")" "$("$py" -c "print($g1m / $sm)")" "$l0" "$gl0"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
