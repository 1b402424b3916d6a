"""The file store: image data as files under ``<state_dir>/images``.

Data arrives as an async stream of chunks and is written as it comes (never
held whole in memory), hashed on the way (md5 for ``checksum``, sha512 for
``os_hash_value``) and renamed into place only when complete, so a reader
never sees a partial file. Staged data (``glance-direct`` import) waits in
``staging/``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

#: The single store Kumo has (``/v2/info/stores``).
STORE_ID = "file"
HASH_ALGO = "sha512"
#: Bytes gathered before one write (and one hop to a worker thread).
WRITE_BATCH = 1 << 20
READ_CHUNK = 1 << 16
#: Threads computing the second digest of uploads in parallel with the first.
_HASHERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kumo-image-hash")


class TooMuchData(Exception):
    """The stream went over the number of bytes it was allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


@dataclass
class Stored:
    """A completed write: where, how big, and its checksums."""

    path: Path
    size: int
    checksum: str
    os_hash_value: str


def store_dir(state_dir: Path) -> Path:
    """The directory that holds active images' data."""
    return state_dir / "images"


def data_path(state_dir: Path, image_id: str) -> Path:
    """Where an image's data lives once uploaded."""
    return store_dir(state_dir) / image_id


def staging_path(state_dir: Path, image_id: str) -> Path:
    """Where a ``glance-direct`` upload waits for its import."""
    return store_dir(state_dir) / "staging" / image_id


class _Writer:
    def __init__(self, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        self.final = final
        self.partial = final.with_name(final.name + ".part")
        self.file = self.partial.open("wb")
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha = hashlib.new(HASH_ALGO)
        self.size = 0

    def write(self, data: bytes | bytearray) -> None:
        # hashlib releases the GIL on large buffers: the sha512 runs on another
        # core while this thread does the md5 and the write.
        sha = _HASHERS.submit(self.sha.update, data)
        self.md5.update(data)
        self.file.write(data)
        sha.result()
        self.size += len(data)

    def commit(self) -> Stored:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.partial, self.final)
        return Stored(self.final, self.size, self.md5.hexdigest(), self.sha.hexdigest())

    def abort(self) -> None:
        self.file.close()
        self.partial.unlink(missing_ok=True)


async def receive(chunks: AsyncIterator[bytes], final: Path, limit: int | None) -> Stored:
    """Write ``chunks`` to ``final``; :class:`TooMuchData` past ``limit`` bytes.

    File writes and hashing run in a worker thread, a batch at a time, so the
    event loop keeps serving other requests during a large upload.
    """
    writer = await anyio.to_thread.run_sync(_Writer, final)
    batch = bytearray()
    received = 0
    try:
        async for chunk in chunks:
            received += len(chunk)
            if limit is not None and received > limit:
                raise TooMuchData(limit)
            batch += chunk
            if len(batch) >= WRITE_BATCH:
                full, batch = batch, bytearray()
                await anyio.to_thread.run_sync(writer.write, full)
        if batch:
            await anyio.to_thread.run_sync(writer.write, batch)
        return await anyio.to_thread.run_sync(writer.commit)
    except BaseException:
        await anyio.to_thread.run_sync(writer.abort)
        raise


def read_range(path: Path, start: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of ``path`` from ``start``, in chunks."""
    with path.open("rb") as f:
        f.seek(start)
        left = length
        while left > 0:
            data = f.read(min(READ_CHUNK, left))
            if not data:
                return
            left -= len(data)
            yield data


def remove(path: Path | None) -> None:
    """Delete a data file if it exists."""
    if path is not None:
        path.unlink(missing_ok=True)
