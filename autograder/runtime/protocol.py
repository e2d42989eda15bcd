"""Wire format between the trusted grader and the sandboxed worker.

A message is a JSON header plus binary frames. An array travels as a frame of its raw
little-endian bytes, its dtype (one of a few numeric ones) and shape in the header; the reader
checks both against the frame's length and rebuilds it with ``numpy.frombuffer``. That is the
``.npy`` idea without its header, whose parsing (``ast.literal_eval`` per array) cost more than
the checks themselves. Everything else is plain JSON. Nothing is ever unpickled or evaluated,
every size is capped, and a malformed message raises ``ProtocolError`` instead of crashing the
reader.

Layout on the pipe: ``>I`` header length, header bytes (UTF-8 JSON), then the frames whose
byte lengths the header lists under ``"frames"``.

This module is imported on both sides of the boundary, so it uses only the standard library
and numpy.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any, BinaryIO

import numpy as np

MAX_HEADER_BYTES = 4 << 20
MAX_FRAME_BYTES = 64 << 20
MAX_TOTAL_BYTES = 256 << 20
MAX_FRAMES = 4096
MAX_DEPTH = 32
MAX_NDIM = 8
ALLOWED_DTYPES = frozenset(
    ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
)

_NATIVE = {name: np.dtype(name) for name in ALLOWED_DTYPES}  # as used
_WIRE = {name: dtype.newbyteorder("<") for name, dtype in _NATIVE.items()}  # as sent
# numpy computes ``dtype.name`` in Python on every read; a call sends many arrays, so the
# allowed dtypes' names are looked up, in either byte order.
_NAMES = {dtype: name for name, native in _NATIVE.items()
          for dtype in (native, _WIRE[name], native.newbyteorder(">"))}
_LEN = struct.Struct(">I")


class ProtocolError(Exception):
    """A message that is malformed, too large, or of a type the protocol does not carry."""


class BodyError(ProtocolError):
    """A message read whole (the stream is still in step) whose content is not acceptable."""


def _encode_value(value: Any, frames: list[bytes], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**62 else {"__float__": _big_int_as_float(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic):
        return _encode_value(value.item(), frames, depth)
    if isinstance(value, np.ndarray):
        return _add_frame(value, frames)
    if isinstance(value, (list, tuple)):
        return [_encode_value(v, frames, depth + 1) for v in value]
    if isinstance(value, dict):
        out = {}
        for key, v in value.items():
            if not isinstance(key, str) or key.startswith("__"):
                raise ProtocolError(f"dictionary key {key!r} is not a plain string")
            out[key] = _encode_value(v, frames, depth + 1)
        return out
    raise ProtocolError(f"cannot send a value of type {type(value).__name__}")


def _big_int_as_float(value: int) -> str:
    """An int too large for JSON's safe range, as the float it rounds to (past a float's
    range, infinity of its sign)."""
    try:
        return repr(float(value))
    except OverflowError:
        return "inf" if value > 0 else "-inf"


def _add_frame(array: np.ndarray, frames: list[bytes]) -> dict[str, Any]:
    name = _NAMES.get(array.dtype) or array.dtype.name
    if name not in ALLOWED_DTYPES:
        raise ProtocolError(f"arrays of dtype {array.dtype} are not carried")
    if array.ndim > MAX_NDIM:
        raise ProtocolError("array has too many dimensions")
    if array.dtype != _WIRE[name]:
        array = array.astype(_WIRE[name], copy=False)
    frames.append(array.tobytes())  # in C order, whatever the array's own layout
    return {"__ndarray__": len(frames) - 1, "dtype": name, "shape": list(array.shape)}


def encode(message: dict[str, Any], blobs: dict[str, bytes] | None = None) -> bytes:
    """Serialise a message; ``blobs`` are raw byte frames (files) referenced by name."""
    frames: list[bytes] = []
    body = _encode_value(message, frames)
    blob_index = {}
    for name, data in (blobs or {}).items():
        frames.append(bytes(data))
        blob_index[name] = len(frames) - 1
    header = json.dumps(
        {"body": body, "frames": [len(f) for f in frames], "blobs": blob_index},
        allow_nan=False,
        separators=(",", ":"),
    ).encode()
    return _LEN.pack(len(header)) + header + b"".join(frames)


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_parts(stream: BinaryIO) -> tuple[dict[str, Any], list[bytes], bytes]:
    """One message's header (sizes checked) and frames, and its header bytes as read."""
    length = _read_exact(stream, _LEN.size)
    (header_len,) = _LEN.unpack(length)
    if header_len > MAX_HEADER_BYTES:
        raise ProtocolError(f"header of {header_len} bytes is over the limit")
    header_bytes = _read_exact(stream, header_len)
    header = _parse_json(header_bytes)
    if not isinstance(header, dict):
        raise ProtocolError("header is not an object")
    sizes = header.get("frames")
    if not isinstance(sizes, list) or len(sizes) > MAX_FRAMES:
        raise ProtocolError("frame list missing or too long")
    if not all(type(s) is int and 0 <= s <= MAX_FRAME_BYTES for s in sizes):
        raise ProtocolError("frame size out of range")
    if sum(sizes) > MAX_TOTAL_BYTES:
        raise ProtocolError("message is over the size limit")
    return header, [_read_exact(stream, s) for s in sizes], length + header_bytes


def read_raw_message(stream: BinaryIO) -> bytes:
    """One whole message as bytes, its sizes checked but nothing decoded: for relaying a
    message unchanged (the worker between the grader and a task child)."""
    _, frames, head = _read_parts(stream)
    return head + b"".join(frames)


def read_message(stream: BinaryIO) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Read one message; returns the decoded body and the raw blobs by name. A message that
    was read whole but whose body is unacceptable raises ``BodyError``: the stream is still
    in step and the reader may go on."""
    header, frames, _ = _read_parts(stream)
    try:
        return _decode_body(header, frames)
    except ProtocolError as exc:
        raise BodyError(str(exc)) from None


def _decode_body(header: dict[str, Any], frames: list[bytes]) -> tuple[dict[str, Any], dict[str, bytes]]:
    blob_index = header.get("blobs", {})
    if not isinstance(blob_index, dict):
        raise ProtocolError("blob index is not an object")
    blobs = {}
    for name, i in blob_index.items():
        if type(i) is not int or not 0 <= i < len(frames):
            raise ProtocolError("blob index out of range")
        blobs[name] = frames[i]
    body = _decode_value(header.get("body"), frames, 0)
    if not isinstance(body, dict):
        raise ProtocolError("message body is not an object")
    return body, blobs


def _reject_constant(name: str) -> Any:
    raise ProtocolError(f"bare {name} is not valid JSON here")


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError(f"header is not valid JSON: {type(exc).__name__}") from None


def _decode_value(value: Any, frames: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_decode_value(v, frames, depth + 1) for v in value]
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return _decode_array(value, frames)
        if "__float__" in value:
            return _decode_float(value)
        return {k: _decode_value(v, frames, depth + 1) for k, v in value.items()}
    raise ProtocolError("unexpected JSON value")


def _decode_float(value: dict) -> float:
    text = value.get("__float__")
    if len(value) != 1 or text not in ("nan", "inf", "-inf") and not _is_float_text(text):
        raise ProtocolError("bad float marker")
    return float(text)


def _is_float_text(text: Any) -> bool:
    if not isinstance(text, str) or len(text) > 40:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _decode_array(value: dict, frames: list[bytes]) -> np.ndarray:
    index, dtype_name, shape = value.get("__ndarray__"), value.get("dtype"), value.get("shape")
    if len(value) != 3 or type(index) is not int or not 0 <= index < len(frames):
        raise ProtocolError("bad array reference")
    if dtype_name not in ALLOWED_DTYPES:
        raise ProtocolError(f"arrays of dtype {dtype_name!r} are not accepted")
    if not isinstance(shape, list) or len(shape) > MAX_NDIM:
        raise ProtocolError("array shape missing or with too many dimensions")
    if not all(type(n) is int and 0 <= n <= MAX_FRAME_BYTES for n in shape):
        raise ProtocolError("array shape out of range")
    dtype = _WIRE[dtype_name]
    frame = frames[index]
    if math.prod(shape) * dtype.itemsize != len(frame):
        raise ProtocolError("array frame length does not match its dtype and shape")
    return np.frombuffer(frame, dtype=dtype).reshape(shape).astype(_NATIVE[dtype_name])


def write_message(
    stream: BinaryIO, message: dict[str, Any], blobs: dict[str, bytes] | None = None
) -> None:
    """Encode and write one message, flushing so the reader sees it at once."""
    stream.write(encode(message, blobs))
    stream.flush()
