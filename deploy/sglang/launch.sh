#!/usr/bin/env bash
# SGLang serving Qwen/Qwen3-Embedding-4B for the normalizer on the same GPU.
# Every setting is an environment variable with the default the normalizer expects;
# see deploy/sglang/README.md for why each flag is there.
set -euo pipefail

MODEL="${SGLANG_MODEL:-Qwen/Qwen3-Embedding-4B}"     # = normalizer --embedder-model
HOST="${SGLANG_HOST:-127.0.0.1}"                      # loopback: only the normalizer calls it
PORT="${SGLANG_PORT:-30000}"                          # = normalizer --embedder-url port
# Weights + KV pool. The rest of the GPU is left for SGLang's activations, the normalizer's
# CUDA context and the FAISS index with its scratch memory (--device gpu).
MEM_FRACTION_STATIC="${SGLANG_MEM_FRACTION_STATIC:-0.70}"
# = normalizer --max-inflight: the normalizer never has more transcripts in flight, so SGLang
# can run them all in one batch instead of queueing them behind a smaller limit.
MAX_RUNNING_REQUESTS="${SGLANG_MAX_RUNNING_REQUESTS:-${NORMALIZER_MAX_INFLIGHT:-256}}"
# Reduced dimensions (Matryoshka), = normalizer --embedder-dimensions. The normalizer
# truncates and re-normalises client-side, which is correct on every SGLang version; this
# only lets other clients ask SGLang for `dimensions` too.
DIMENSIONS="${NORMALIZER_EMBEDDER_DIMENSIONS:-}"

args=(
  --model-path "$MODEL"
  --served-model-name "$MODEL"
  --is-embedding
  --host "$HOST" --port "$PORT"
  --mem-fraction-static "$MEM_FRACTION_STATIC"
  --max-running-requests "$MAX_RUNNING_REQUESTS"
  --enable-metrics
  --log-level warning
)
if [[ -n "$DIMENSIONS" ]]; then
  args+=(--json-model-override-args "{\"matryoshka_dimensions\": [$DIMENSIONS]}")
fi

exec "${SGLANG_PYTHON:-python3}" -m sglang.launch_server "${args[@]}" "$@"
