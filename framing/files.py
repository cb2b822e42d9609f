"""Writing files so that a reader never sees half of one: every output of the tool goes through here."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_writer(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and move it into place only when the block succeeds,
    so a crash never leaves a half-written output where a reader expects a whole one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        # mkstemp makes the file 0600; an output takes the mode the user's umask gives a new file (0644
        # usually), so that a report can be served and a table shared like any file the user writes.
        os.chmod(fd, 0o666 & ~umask())
        encoding = None if "b" in mode else "utf-8"
        newline = None if "b" in mode else ""
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def umask() -> int:
    """This process's umask, read from /proc (setting it to read it would open a window in which another
    thread's new files get no protection); where /proc has no answer, the usual 022."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def cache_dir() -> Path:
    """Where derived files are cached (exported graphs, unpacked language models): ``FRAMING_CACHE_DIR``,
    else ``$XDG_CACHE_HOME/framing`` or ``~/.cache/framing``."""
    if os.environ.get("FRAMING_CACHE_DIR"):
        return Path(os.environ["FRAMING_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "framing"


def _private(path: Path) -> bool:
    """Owned by this user and writable by no one else."""
    try:
        info = path.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def read_cached(path: Path) -> bytes | None:
    """A cached file, or None unless it can be trusted: the cache directory, the file and its digest
    (``<file>.sha256``, recorded at writing) belong to this user alone, and the digest matches. The
    ownership check is what keeps another user from planting a file; the digest catches a torn or
    altered one."""
    digest = path.with_name(path.name + ".sha256")
    if not (_private(path.parent) and _private(path) and _private(digest)):
        return None
    try:
        data, recorded = path.read_bytes(), digest.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return data if hashlib.sha256(data).hexdigest() == recorded else None


def write_cached(path: Path, data: bytes) -> None:
    """Cache ``data`` at ``path`` with its digest, each file whole or absent (the file first: a kill between
    the two leaves a file without a digest, made again next time rather than trusted). A cache that
    cannot be written (read-only home, full disk) is skipped: the caller derives the data again."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for target, content in (
            (path, data),
            (path.with_name(path.name + ".sha256"), hashlib.sha256(data).hexdigest().encode("ascii") + b"\n"),
        ):
            with atomic_writer(target, "wb") as handle:
                handle.write(content)
            target.chmod(0o600)
    except OSError:
        pass
