#!/usr/bin/env bash
# Per-step training time of the crate against the pure-JAX reference, side by side on this machine.
#
#   bash benches/jax_side_by_side.sh            # 300 steps, both kernels
#   STEPS=1000 JAX_THREADS=1 bash benches/jax_side_by_side.sh
#
# Creates (once) a virtualenv outside the repository, exactly as ../shared/bench/README.md says,
# runs ../shared/bench/jax_reference.py --guide tril for each kernel and our example (Adam, the
# reference's algorithm: --inference adam) with
# --json, and prints ms/step for both and the ratio JAX / svgp (higher is better for svgp).
#
# Environment:
#   JAX_VENV     virtualenv location      (default $HOME/.cache/svgp-jax-venv)
#   JAX_REF      path of jax_reference.py (default: shared/bench/jax_reference.py beside the
#                repository, ../shared or ../../shared; the script is not in this repository and
#                says what is missing when it finds none)
#   STEPS        training steps per run   (default 300)
#   JAX_THREADS  --threads for JAX        (default 0 = all cores)
#   SVGP_THREADS --threads for svgp       (default: all cores, at most 2; the example always
#                splits the data into the same 2 chunks, so its numbers do not depend on this)
#   ROUNDS       alternate svgp/JAX runs this many times and keep each side's best (default 1)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAX_VENV="${JAX_VENV:-$HOME/.cache/svgp-jax-venv}"
# The JAX reference is not part of this repository: it sits with the reference material in
# shared/bench/ beside the checkout (../shared) or beside a worktree's parent (../../shared).
if [ -n "${JAX_REF:-}" ]; then
    ref_candidates=("$JAX_REF")
else
    ref_candidates=("$here/../shared/bench/jax_reference.py" "$here/../../shared/bench/jax_reference.py")
fi
JAX_REF=""
for c in "${ref_candidates[@]}"; do
    if [ -f "$c" ]; then JAX_REF="$c"; break; fi
done
STEPS="${STEPS:-300}"
JAX_THREADS="${JAX_THREADS:-0}"
ROUNDS="${ROUNDS:-1}"
SVGP_THREADS="${SVGP_THREADS:-$(( $(nproc) < 2 ? $(nproc) : 2 ))}"

if [ -z "$JAX_REF" ]; then
    {
        echo "missing: the JAX reference script jax_reference.py, which this comparison runs."
        echo "It is not part of this repository (it lives in the reference material, shared/bench/)."
        echo "Looked for it at:"
        printf '  %s\n' "${ref_candidates[@]}"
        echo "Set JAX_REF=/path/to/jax_reference.py to point at a copy. The crate's own benchmarks"
        echo "(cargo bench -p svgp-bench) and tests need none of it."
    } >&2
    exit 2
fi
if [ ! -x "$JAX_VENV/bin/python" ]; then
    echo "creating the JAX virtualenv in $JAX_VENV (one-off, a large download)" >&2
    python3 -m venv "$JAX_VENV"
    "$JAX_VENV/bin/pip" install -q "jax[cpu]==0.10.2" "jaxlib==0.10.2" "equinox==0.13.8" \
        "optax==0.2.8" "jaxtyping==0.3.11" "numpy==2.4.6"
fi

cargo build --release --example deep_rff --manifest-path "$here/Cargo.toml" >&2
ours="$here/target/release/examples/deep_rff"

# One JSON field from one JSON line (no jq needed: the venv's python reads it).
field() { "$JAX_VENV/bin/python" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
best() { "$JAX_VENV/bin/python" -c 'import sys; print(min(float(v) for v in sys.argv[1:]))' "$@"; }

# The CPU as lscpu names it (family/model tell Zen 3 from Zen 4 when the model name is generic),
# its widest vector extension (svgp's dispatch picks the widest level it supports unless
# SVGP_ARCH says otherwise), and the load, which a shared machine must report beside its numbers.
cpu_field() { grep -m1 "^$1" /proc/cpuinfo | cut -d: -f2 | xargs; }
if grep -qw avx512f /proc/cpuinfo; then simd="AVX-512"; elif grep -qw avx2 /proc/cpuinfo; then simd="AVX2+FMA"; else simd="SSE2"; fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(cpu_field 'model name') (family $(cpu_field 'cpu family') model $(cpu_field 'model'), $simd), $(nproc) cpus, SVGP_ARCH=${SVGP_ARCH:-auto}"
echo "load before: $(load)"
echo "steps $STEPS, N 600, float64, JAX --guide tril --threads $JAX_THREADS --loop python, svgp --threads $SVGP_THREADS"
printf '%-6s %14s %14s %10s %12s %12s\n' kernel "svgp ms/step" "JAX ms/step" "JAX/svgp" "svgp RMSE" "JAX RMSE"
rows=()
for kernel in rbf deep; do
    svgp_ms=(); jax_ms=()
    for _ in $(seq "$ROUNDS"); do
        line="$("$ours" --kernel "$kernel" --steps "$STEPS" --inference adam --json --no-plots --quiet --threads "$SVGP_THREADS")"
        svgp_ms+=("$(field "$line" step_ms)"); svgp_rmse="$(field "$line" grid_rmse)"
        jline="$("$JAX_VENV/bin/python" "$JAX_REF" --kernel "$kernel" --guide tril --steps "$STEPS" \
            --threads "$JAX_THREADS" 2>/dev/null | tail -n 1)"
        jax_ms+=("$(field "$jline" step_ms_median)"); jax_rmse="$(field "$jline" grid_rmse)"
    done
    s="$(best "${svgp_ms[@]}")"; j="$(best "${jax_ms[@]}")"
    ratio="$("$JAX_VENV/bin/python" -c "print(f'{$j / $s:.2f}x')")"
    printf '%-6s %14.4f %14.4f %10s %12.4f %12.4f\n' "$kernel" "$s" "$j" "$ratio" "$svgp_rmse" "$jax_rmse"
    rows+=("| $kernel | $(printf '%.3f' "$s") | $(printf '%.3f' "$j") | **$ratio** |")
done
echo "load after: $(load)"
# The same numbers as Markdown rows, to paste into README.md / benches/README.md.
echo "| kernel | svgp ms/step | JAX ms/step | JAX/svgp |   (JAX --threads $JAX_THREADS, svgp --threads $SVGP_THREADS)"
printf '%s\n' "${rows[@]}"
