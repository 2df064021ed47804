"""A memory backend that starts with ``files`` small files (not a test; bench/fleet.py).

Each gateway process makes its own tree at start, so every worker and every gateway of a
fleet holds the same files without a shared store: what ``bench/fleet.py`` measures is the
gateways, not a backend. Config: ``backend: bench.seeded_memory`` with the repository on PYTHONPATH.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from davprovider.backend import Identity
from davprovider.memory import MemoryFactory
from davprovider.memory import Options as MemoryOptions
from davprovider.memory.backend import MemoryBackend


@dataclass(frozen=True)
class Options:
    """``users`` as the memory backend's; ``files`` files of ``size`` bytes in ``/``."""

    users: dict[str, str] = field(default_factory=dict, repr=False)
    files: int = 200
    size: int = 4096


def create_factory(options: Options) -> MemoryFactory:
    factory = MemoryFactory(MemoryOptions(users=dict(options.users)))
    backend = factory(Identity(user="seed", method="basic"))
    assert isinstance(backend, MemoryBackend)
    body = bytes(range(256)) * (options.size // 256 + 1)
    for index in range(options.files):
        upload = backend.open_write(f"/f{index:04d}.bin", size=options.size)
        upload.write(body[: options.size])
        upload.commit()
    return factory
