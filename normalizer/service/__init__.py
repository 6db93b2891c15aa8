"""The gRPC face of the service: validation, servicer, interceptors, server lifecycle."""
