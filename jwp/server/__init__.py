"""The jwp server: storage, queues, dispatch, runners and the gRPC API."""
