"""Protobuf and gRPC modules of the jobworkerp API.

The modules under `jwp.proto.jobworkerp` are generated from the .proto files
in `proto/` by `python scripts/gen_protos.py` and committed. Edit the .proto
files, then regenerate. `python scripts/gen_protos.py --check` (also run by
tests/test_protos.py) fails when the committed modules are stale.
"""
