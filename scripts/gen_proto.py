"""Regenerate normalizer/_proto from proto/ (the only way the generated code is made).

    python scripts/gen_proto.py           # write the generated files
    python scripts/gen_proto.py --check   # exit 1 if the committed files are stale

Generated modules import each other as ``normalizer._proto.normalizer.v1...``, so
the proto root is mapped onto the package path before calling protoc.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUT = ROOT / "normalizer" / "_proto"
PROTOS = ["normalizer/v1/normalizer.proto"]


def generate(dest: Path) -> None:
    """Run protoc for every proto into ``dest`` (laid out as the package ``_proto``)."""
    with tempfile.TemporaryDirectory() as staging:
        stage = Path(staging) / "normalizer" / "_proto"
        stage.mkdir(parents=True)
        for rel in PROTOS:
            shutil.copy(PROTO_ROOT / rel, stage / Path(rel).name)
        args = [
            "grpc_tools.protoc",
            f"-I{staging}",
            f"--python_out={staging}",
            f"--mypy_out={staging}",
            f"--grpc_python_out={staging}",
            *[f"normalizer/_proto/{Path(rel).name}" for rel in PROTOS],
        ]
        # protoc finds the mypy plugin on PATH; the venv's bin may not be on it.
        bindir = str(Path(sys.executable).parent)
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        dest.mkdir(parents=True, exist_ok=True)
        for produced in sorted(stage.iterdir()):
            if produced.suffix in {".py", ".pyi"}:
                shutil.copy(produced, dest / produced.name)
        (dest / "__init__.py").write_text(
            '"""Generated protobuf code: do not edit; see scripts/gen_proto.py."""\n')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if committed code is stale")
    args = parser.parse_args()
    if not args.check:
        generate(OUT)
        return 0
    with tempfile.TemporaryDirectory() as fresh:
        generate(Path(fresh))
        stale = [
            p.name
            for p in sorted(Path(fresh).iterdir())
            if not (OUT / p.name).exists() or not filecmp.cmp(p, OUT / p.name, shallow=False)
        ]
    if stale:
        print("stale generated code: " + ", ".join(stale) + "; run python scripts/gen_proto.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
