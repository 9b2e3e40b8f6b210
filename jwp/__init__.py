"""jwp: a job worker system in Python that speaks the jobworkerp gRPC API."""

__version__ = "0.1.0"
