"""The committed generated code is fresh, and the matching layer's enum mirrors the proto's."""

import subprocess
import sys
from pathlib import Path

from normalizer._proto import normalizer_pb2 as pb
from normalizer.matching.answer import Fallback

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_is_not_stale() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_fallback_enum_mirrors_proto() -> None:
    proto = {v.name: v.number for v in pb.Fallback.DESCRIPTOR.values}
    ours = {f"FALLBACK_{f.name}": f.value for f in Fallback}
    assert ours == proto
