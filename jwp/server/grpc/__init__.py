"""gRPC services: translate between protobuf requests and the application layer."""
