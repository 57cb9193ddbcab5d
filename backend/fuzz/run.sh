#!/usr/bin/env bash
# Fuzzes every Cairn input parser briefly: builds all targets once
# (`cargo fuzz build`), then per target replays the regression inputs
# (regressions/<target>/*, each run once) and fuzzes for SECONDS_PER_TARGET
# seconds from its seed corpus (seed.sh). Exits non-zero on the first
# crash, saying where the crashing input was saved.
#
# The built fuzz binaries are run directly (the same command line
# `cargo fuzz run` would use), so that a source edit during the run cannot
# trigger a rebuild between targets and the time per target is fuzzing time.
#
# Usage: backend/fuzz/run.sh [SECONDS_PER_TARGET]     (default 20)
# Environment:
#   FUZZ_TARGETS="sbom webhook"   only these targets (default: all)
#   FUZZ_SANITIZER=none           build without AddressSanitizer (default address)
# Needs a stable Rust toolchain (nightly features are unlocked with
# RUSTC_BOOTSTRAP=1, as cargo-fuzz needs -Zsanitizer and sancov flags), a
# C++ compiler (libFuzzer is built from source) and network access to
# crates.io the first time (cargo-fuzz is installed if missing).
# See docs/fuzzing.md.
set -euo pipefail

SECONDS_PER_TARGET=${1:-20}
case "$SECONDS_PER_TARGET" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CARGO_FUZZ_VERSION=0.13.2
SANITIZER=${FUZZ_SANITIZER:-address}
ALL_TARGETS=(sbom cyclonedx_xml attestation go_buildinfo go_mod ci_definition webhook licence_expression admission policy_eval)
read -r -a TARGETS <<<"${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"

# Largest input per target: the body limits the parsers see in Cairn
# (CI definitions: ci::core::MAX_DEFINITION, 1 MiB; AdmissionReview: 2 MiB;
# Go `version -m` text: 4 MiB), capped at 1 MiB for the other JSON and text
# parsers (uploads up to 16-256 MiB) so that a short run still executes
# many inputs. libFuzzer's default would be 4 KiB, and
# -len_control=0 lets mutations reach -max_len at once instead of growing
# inputs slowly from the largest seed.
max_len() {
  case "$1" in
    go_buildinfo) echo $((4 << 20)) ;;
    admission) echo $((2 << 20)) ;; # the AdmissionReview body limit
    *) echo $((1 << 20)) ;;
  esac
}

export RUSTC_BOOTSTRAP=1
# The fuzz build has its own flags (sancov, sanitizer): keep it in its own
# target dir so it never invalidates the main build's, one per sanitizer so
# that switching does not rebuild everything.
TARGET_DIR="$FUZZ_DIR/target/sanitizer-$SANITIZER"
unset CARGO_TARGET_DIR RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

log() { printf '\n== fuzz: %s\n' "$*"; }

if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

log "seeding corpus/"
"$FUZZ_DIR/seed.sh"

TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BUILD_FLAGS=(--fuzz-dir "$FUZZ_DIR" --target-dir "$TARGET_DIR" --sanitizer "$SANITIZER" --target "$TRIPLE")
BIN_DIR="$TARGET_DIR/$TRIPLE/release"

log "building ${#TARGETS[@]} targets (sanitizer: $SANITIZER)"
started=$(date +%s)
for t in "${TARGETS[@]}"; do
  [ -f "$FUZZ_DIR/fuzz_targets/$t.rs" ] || { echo "unknown fuzz target $t" >&2; exit 2; }
done
if [ ${#TARGETS[@]} -eq ${#ALL_TARGETS[@]} ]; then
  cargo fuzz build "${BUILD_FLAGS[@]}"
else
  for t in "${TARGETS[@]}"; do cargo fuzz build "${BUILD_FLAGS[@]}" "$t"; done
fi
echo "built in $(($(date +%s) - started)) s"

# What `cargo fuzz run` sets for the fuzz binaries, and Rust backtraces.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0"
export RUST_BACKTRACE=${RUST_BACKTRACE:-1}

LOGS="$TARGET_DIR/fuzz-logs"
mkdir -p "$LOGS"

# fail TARGET LOG MARKER WHAT: report a failure of TARGET and exit.
fail() {
  local t=$1 logfile=$2 marker=$3 what=$4 found first
  echo
  echo "---- from $logfile"
  # The panic (message, backtrace) or the sanitizer's report, then how
  # libFuzzer ended; the Debug dump of the input is left out.
  first=$(grep -n -m1 -E 'panicked at|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' "$logfile" | cut -d: -f1 || true)
  if [ -n "$first" ]; then
    sed -n "${first},$((first + 40))p" "$logfile"
    echo "  [...]"
  fi
  grep -v -E '^\s+[0-9]+,$' "$logfile" | tail -n 12 || true
  echo "----"
  found=$(find "$FUZZ_DIR/artifacts/$t" -type f -newer "$marker" 2>/dev/null | sort || true)
  echo "FUZZ FAILURE: target $t failed $what."
  if grep -q '^Running: ' "$logfile"; then
    echo "The input that failed: $(grep '^Running: ' "$logfile" | tail -n1 | cut -d' ' -f2-)"
  fi
  if [ -n "$found" ]; then
    echo "The failing input was saved as:"
    for a in $found; do echo "  $a ($(stat -c %s "$a") bytes)"; done
    echo "Reproduce:  RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir $FUZZ_DIR --sanitizer $SANITIZER $t <file>"
    echo "       or:  $BIN_DIR/$t <file>"
    echo "Keep it as a regression input once understood:  cp <file> $FUZZ_DIR/regressions/$t/"
  fi
  exit 1
}

total=0
for t in "${TARGETS[@]}"; do
  len=$(max_len "$t")
  marker="$LOGS/$t.start"
  mkdir -p "$FUZZ_DIR/artifacts/$t"
  # Back-dated by a second: file times are coarse, and what this target
  # writes must be newer than the marker.
  touch -d "@$(($(date +%s) - 1))" "$marker"

  # 1. Regression inputs: each run once; any crash fails.
  regressions=()
  if [ -d "$FUZZ_DIR/regressions/$t" ]; then
    while IFS= read -r -d '' f; do regressions+=("$f"); done \
      < <(find "$FUZZ_DIR/regressions/$t" -type f ! -name '.*' ! -name '*.md' -print0 | sort -z)
  fi
  if [ ${#regressions[@]} -gt 0 ]; then
    log "$t: replaying ${#regressions[@]} regression inputs"
    if ! "$BIN_DIR/$t" -artifact_prefix="$FUZZ_DIR/artifacts/$t/" \
      -max_len="$len" -rss_limit_mb=2048 -timeout=10 \
      "${regressions[@]}" >"$LOGS/$t.regressions.log" 2>&1; then
      fail "$t" "$LOGS/$t.regressions.log" "$marker" "on a regression input (regressions/$t/)"
    fi
    grep -c '^Executed ' "$LOGS/$t.regressions.log" | xargs printf '%s inputs passed\n'
  fi

  # 2. Fuzzing from the corpus (new inputs found are kept in corpus/<t>/).
  log "$t: fuzzing for ${SECONDS_PER_TARGET}s, inputs up to $len bytes"
  mkdir -p "$FUZZ_DIR/corpus/$t"
  corpora=("$FUZZ_DIR/corpus/$t")
  [ -d "$FUZZ_DIR/regressions/$t" ] && corpora+=("$FUZZ_DIR/regressions/$t")
  if ! "$BIN_DIR/$t" -artifact_prefix="$FUZZ_DIR/artifacts/$t/" \
    -max_total_time="$SECONDS_PER_TARGET" -max_len="$len" -len_control=0 \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    "${corpora[@]}" >"$LOGS/$t.log" 2>&1; then
    fail "$t" "$LOGS/$t.log" "$marker" "while fuzzing"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOGS/$t.log" | tail -n1)
  echo "$t: ${runs:-?} inputs executed, corpus $(find "$FUZZ_DIR/corpus/$t" -type f | wc -l) files, no crash (log: $LOGS/$t.log)"
  total=$((total + ${runs:-0}))
done

log "${#TARGETS[@]} targets passed, $total inputs executed in all"
