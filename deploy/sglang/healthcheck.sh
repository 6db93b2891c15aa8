#!/usr/bin/env bash
# Healthy = /health answers 200 AND one real embedding comes back with a finite vector.
#   healthcheck.sh [--wait SECONDS]      (exit 0 healthy, 1 not)
# SGLANG_URL (default http://127.0.0.1:30000) and SGLANG_MODEL as in launch.sh.
set -uo pipefail

URL="${SGLANG_URL:-http://127.0.0.1:${SGLANG_PORT:-30000}}"
MODEL="${SGLANG_MODEL:-Qwen/Qwen3-Embedding-4B}"
WAIT=0
if [[ "${1:-}" == "--wait" ]]; then WAIT="${2:?--wait needs seconds}"; fi

check() {
  curl -fsS --max-time 5 "$URL/health" >/dev/null || return 1
  curl -fsS --max-time 10 -H 'Content-Type: application/json' \
    -d "{\"model\": \"$MODEL\", \"input\": [\"health check\"], \"encoding_format\": \"float\"}" \
    "$URL/v1/embeddings" |
    python3 -c 'import json, math, sys
v = json.load(sys.stdin)["data"][0]["embedding"]
sys.exit(0 if v and all(math.isfinite(x) for x in v) else 1)'
}

deadline=$(( $(date +%s) + WAIT ))
until check; do
  if (( $(date +%s) >= deadline )); then
    echo "embedding server at $URL is not healthy (GET /health, POST /v1/embeddings)" >&2
    exit 1
  fi
  sleep 2
done
