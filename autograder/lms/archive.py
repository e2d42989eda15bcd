"""Unpacking a zip a student population made, safely: every entry stays inside the target
folder, no links, and caps on the number of files, their sizes and how much they expand (a zip
bomb is refused with the reason before it fills the disk)."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

MAX_FILES = 20_000
MAX_FILE_BYTES = 64 << 20
MAX_TOTAL_BYTES = 1 << 30
MAX_RATIO = 200  # uncompressed / compressed, for entries big enough to matter
RATIO_FLOOR_BYTES = 1 << 20
CHUNK = 1 << 16


class UnsafeArchive(ValueError):
    """The zip cannot be unpacked safely; the message says why."""


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its maker meant it: zips without the UTF-8 flag are read by
    ``zipfile`` as cp437, which garbles the accents of names written as UTF-8."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name.replace("\\", "/")


def safe_parts(name: str) -> tuple[str, ...]:
    """The path parts of an entry, or UnsafeArchive if it would leave the target folder."""
    path = PurePosixPath(name)
    parts = tuple(p for p in path.parts if p not in ("", "."))
    if path.is_absolute() or ".." in parts or (parts and ":" in parts[0]) or any("\0" in p for p in parts):
        raise UnsafeArchive(f"the entry {name!r} would be written outside the folder it is unpacked in")
    return parts


def extract(archive: Path, target: Path) -> list[Path]:
    """Unpack ``archive`` into the empty folder ``target``; the files written."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            infos = zipped.infolist()
            if len(infos) > MAX_FILES:
                raise UnsafeArchive(f"{archive.name} holds {len(infos)} entries; at most {MAX_FILES}")
            written, total = [], 0
            for info in infos:
                name = entry_name(info)
                parts = safe_parts(name)
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise UnsafeArchive(f"the entry {name!r} is a symbolic link; links are not unpacked")
                if info.is_dir() or not parts:
                    continue
                destination = target.joinpath(*parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                total += _copy(zipped, info, destination, name, MAX_TOTAL_BYTES - total)
                written.append(destination)
            return written
    except zipfile.BadZipFile as exc:
        raise UnsafeArchive(f"{archive.name} is not a readable zip ({exc})") from None


def _copy(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path, name: str, room: int) -> int:
    """Stream one entry out, counting what it really expands to (headers can lie)."""
    limit = min(MAX_FILE_BYTES, room)
    ratio_limit = max(RATIO_FLOOR_BYTES, info.compress_size * MAX_RATIO)
    size = 0
    if destination.exists():
        raise UnsafeArchive(f"the entry {name!r} appears twice in the archive")
    with zipped.open(info) as source, destination.open("xb") as sink:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise UnsafeArchive(f"the entry {name!r} expands past {limit >> 20} MiB (too large to grade)")
            if size > ratio_limit:
                raise UnsafeArchive(f"the entry {name!r} expands more than {MAX_RATIO} times its packed size "
                                    "(a zip bomb?)")
            sink.write(chunk)
    return size
