"""Protobuf and gRPC modules of the jobworkerp API and of jwp's extensions.

The modules under `jwp.proto.jobworkerp` (the jobworkerp API) and
`jwp.proto.jwp` (jwp's own services, such as the dashboard) are generated
from the .proto files in `proto/` by `python scripts/gen_protos.py` and
committed. Edit the .proto files, then regenerate.
`python scripts/gen_protos.py --check` (also run by tests/test_protos.py)
fails when the committed modules are stale.
"""
