"""Generated protobuf code: do not edit; see scripts/gen_proto.py."""
