"""Joining (or starting) the Ray cluster that `--ray` / `--ray-address` / `--replicas N` ask for: both
the generation replicas (`evalkit.adapters.ray_replicas`) and Ray grading (`evalkit.grading`) use it."""

from __future__ import annotations

import logging
import socket
from typing import Any

from evalkit.config import RunConfig
from evalkit.errors import EvalkitError, MissingExtraError

_PROBE_TIMEOUT_S = 5.0


def uses_ray(config: RunConfig) -> bool:
    """Whether the run scales out on Ray: `--ray`, `--ray-address ADDR` or `--replicas N` (N > 1)."""
    scale = config.scale
    return scale.ray or scale.ray_address is not None or scale.replicas > 1


def import_ray(what: str) -> Any:
    """The `ray` module, or a MissingExtraError naming the extra."""
    try:
        import ray
    except ImportError as exc:
        raise MissingExtraError(what, "ray", "ray[default]") from exc
    return ray


def _probe(address: str) -> None:
    # ray.init retries an address that does not answer for minutes; a plain TCP connect says so in seconds.
    host_port = address.removeprefix("ray://")
    host, sep, port = host_port.rpartition(":")
    if not sep or not port.isdigit():
        raise EvalkitError(
            f"--ray-address {address} is not host:port. Pass the head node's GCS address (e.g. 10.0.0.1:6379), "
            "a Ray client address (ray://10.0.0.1:10001) or 'auto'."
        )
    try:
        with socket.create_connection((host, int(port)), timeout=_PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        raise EvalkitError(
            f"The Ray cluster at {address} does not answer ({exc}). Start it there with `ray start --head`, "
            "check host and port, or drop --ray-address to start a local Ray cluster."
        ) from None
    # Something listens, but ray.init would also wait for minutes on a port that is not Ray's (the
    # dashboard's 8265, say): Ray's GCS and client servers speak gRPC, so a gRPC handshake tells.
    import grpc  # installed with ray

    channel = grpc.insecure_channel(f"{host}:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=_PROBE_TIMEOUT_S)
    except grpc.FutureTimeoutError:
        raise EvalkitError(
            f"{address} accepts connections but does not answer like a Ray cluster (no gRPC handshake within "
            f"{_PROBE_TIMEOUT_S:g} s). Pass the head node's GCS address (`ray status` there shows it, port 6379 "
            "by default) or its Ray client address (ray://HOST:10001), not the dashboard's."
        ) from None
    finally:
        channel.close()


def connect(config: RunConfig) -> Any:
    """Connect to `config.scale.ray_address`, or start a local cluster; reuse a connection made earlier.

    Every node must have evalkit (and the backend's extra) installed: replicas and grading tasks
    import it there.
    """
    ray = import_ray("--ray")
    if ray.is_initialized():
        return ray
    address = config.scale.ray_address
    if address is not None and address != "auto":
        _probe(address)
    try:
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
    except ConnectionError as exc:
        raise EvalkitError(
            f"Could not join the Ray cluster at {address}: {exc}. Check that the cluster is running "
            "(`ray status` on the head node) or drop --ray-address to start a local one."
        ) from exc
    return ray
