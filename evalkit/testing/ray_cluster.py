"""A local Ray cluster for tests whose workers import this same evalkit.

Ray workers take PYTHONPATH from the cluster's runtime environment, not from the test process: a
runtime environment that set it to a test folder alone made workers import whatever evalkit the
interpreter has installed (another checkout), so a test could pass on code it never ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import evalkit

# The directory that holds the `evalkit` package this process imported.
EVALKIT_ROOT = Path(evalkit.__file__).resolve().parents[1]


@contextmanager
def local_ray_cluster(num_cpus: int = 2, extra_paths: Sequence[Path] = ()) -> Iterator[Any]:
    """Start a local Ray cluster (shut down on exit); its workers import evalkit from EVALKIT_ROOT,
    then `extra_paths`. Yields the `ray` module."""
    import ray

    paths = [str(EVALKIT_ROOT), *map(str, extra_paths)]
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}},
    )
    try:
        yield ray
    finally:
        ray.shutdown()
