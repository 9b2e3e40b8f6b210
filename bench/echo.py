"""A bare grpc.aio unary echo: the floor any gRPC job API pays per call.

`python -m bench.echo ADDRESS` serves `/bench.Echo/Echo`, which returns its
request bytes, without protobuf classes or interceptors.
"""

from __future__ import annotations

import asyncio
import sys
import time

import grpc

from .jwp_client import Throughput, run_in_window
from .stats import Latencies

METHOD = "/bench.Echo/Echo"
PAYLOAD = b"x" * 32


async def _echo(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    return request


async def serve(address: str) -> None:
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(_echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(address)
    await server.start()
    await server.wait_for_termination()


async def _connect(address: str) -> grpc.aio.Channel:
    channel = grpc.aio.insecure_channel(address)
    for _ in range(300):
        try:
            await channel.unary_unary(METHOD)(PAYLOAD, timeout=1)
            return channel
        except grpc.aio.AioRpcError:
            await asyncio.sleep(0.1)
    await channel.close()
    raise RuntimeError(f"the echo server at {address} did not respond within 30 s")


async def round_trips(address: str, calls: int) -> Latencies:
    """Time `calls` echo calls made one after another."""
    channel = await _connect(address)
    try:
        echo = channel.unary_unary(METHOD)
        for _ in range(50):
            await echo(PAYLOAD)
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            await echo(PAYLOAD)
            samples.append((time.perf_counter() - started) * 1000)
        return Latencies.of(samples)
    finally:
        await channel.close()


async def call_rate(address: str, calls: int, in_flight: int) -> Throughput:
    """Make `calls` echo calls with `in_flight` of them outstanding at a time."""
    channel = await _connect(address)
    try:
        echo = channel.unary_unary(METHOD)

        async def call(_: int) -> None:
            await echo(PAYLOAD)

        started = time.perf_counter()
        await run_in_window(calls, in_flight, call)
        return Throughput(calls, time.perf_counter() - started)
    finally:
        await channel.close()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
