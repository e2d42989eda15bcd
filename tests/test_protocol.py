"""The wire format carries plain data only, and rejects anything malformed or oversized."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest

from autograder.checks import close
from autograder.runtime import protocol
from autograder.runtime.protocol import ProtocolError, encode, read_message


def roundtrip(message, blobs=None):
    return read_message(io.BytesIO(encode(message, blobs)))


def raw_message(header: dict, frames: list[bytes] = ()) -> io.BytesIO:
    data = json.dumps(header).encode()
    return io.BytesIO(struct.pack(">I", len(data)) + data + b"".join(frames))


def test_roundtrip_of_plain_values_arrays_and_blobs():
    message = {"a": [1, 2.5, None, True, "x"], "arr": np.arange(6, dtype=np.float32).reshape(2, 3),
               "nan": float("nan"), "inf": float("-inf"), "nested": {"b": np.float64(3.0)}}
    body, blobs = roundtrip(message, {"deep_net.py": b"print(1)\n"})
    assert body["a"] == [1, 2.5, None, True, "x"]
    np.testing.assert_array_equal(body["arr"], message["arr"])
    assert body["arr"].dtype == np.float32
    assert np.isnan(body["nan"]) and body["inf"] == float("-inf")
    assert body["nested"]["b"] == 3.0
    assert blobs == {"deep_net.py": b"print(1)\n"}


def test_ints_past_a_float_travel_as_the_float_they_round_to():
    """JSON's safe range ends at 2**62; past a float's range an int is infinite, not a crash of
    the process sending it."""
    body, _ = roundtrip({"big": 3 * 2**70, "huge": 10**400, "below": -(10**5000)})
    assert body == {"big": float(3 * 2**70), "huge": float("inf"), "below": float("-inf")}


def test_objects_and_object_arrays_are_not_sent():
    with pytest.raises(ProtocolError):
        encode({"x": object()})
    with pytest.raises(ProtocolError):
        encode({"x": np.array([object()], dtype=object)})
    with pytest.raises(ProtocolError):
        encode({"__ndarray__": 0})


def test_pickled_or_mismatched_array_frames_are_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    pickled = buffer.getvalue()
    bad_arrays = [
        ({"__ndarray__": 0, "dtype": "object", "shape": [1]}, pickled),
        ({"__ndarray__": 0, "dtype": "float64", "shape": [1]}, pickled),  # length mismatch
        ({"__ndarray__": 0, "dtype": "float64", "shape": [2, -1]}, bytes(16)),
        ({"__ndarray__": 0, "dtype": "float64", "shape": [1] * 9}, bytes(8)),
        ({"__ndarray__": 0, "dtype": "<f8", "shape": [2]}, bytes(16)),
        ({"__ndarray__": 0}, bytes(16)),
    ]
    for reference, frame in bad_arrays:
        stream = raw_message({"body": {"x": reference}, "frames": [len(frame)]}, [frame])
        with pytest.raises(ProtocolError):
            read_message(stream)


def test_arrays_keep_dtype_shape_and_are_writable_copies():
    for array in (np.array(2.5), np.arange(24, dtype=np.int16).reshape(2, 3, 4),
                  np.array([True, False]), np.zeros((0, 3), dtype=np.float32),
                  np.arange(6, dtype=">f8")[::2]):
        body, _ = roundtrip({"a": array})
        np.testing.assert_array_equal(body["a"], array)
        assert body["a"].shape == array.shape and body["a"].dtype == array.dtype.newbyteorder("=")
        assert body["a"].flags.writeable


def test_bare_nan_and_deep_nesting_and_oversize_are_refused():
    data = b'{"body": {"x": NaN}, "frames": []}'
    with pytest.raises(ProtocolError):
        read_message(io.BytesIO(struct.pack(">I", len(data)) + data))
    deep = {"body": {}, "frames": []}
    node = deep["body"]
    for _ in range(100):
        node["d"] = {}
        node = node["d"]
    with pytest.raises(ProtocolError):
        read_message(raw_message(deep))
    with pytest.raises(ProtocolError):
        read_message(raw_message({"body": {}, "frames": [protocol.MAX_FRAME_BYTES + 1]}))
    with pytest.raises(ProtocolError):
        read_message(io.BytesIO(struct.pack(">I", protocol.MAX_HEADER_BYTES + 1)))


def test_truncated_message_is_an_eof_not_a_hang():
    data = encode({"x": np.zeros(100)})
    with pytest.raises(EOFError):
        read_message(io.BytesIO(data[:-10]))


def test_comparison_has_no_numpy_traps():
    assert not close(np.zeros((0, 10)), np.ones((1, 10)), 1e-5, 1e-8)  # np.allclose says True
    assert not close(np.array([np.nan]), np.array([np.nan]), 1e-5, 1e-8)
    assert not close(np.array([1.0]), np.array([np.nan]), 1e-5, 1e-8)
    assert close(np.array([np.inf, 1.0]), np.array([np.inf, 1.0]), 1e-5, 1e-8)
    assert close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]), 1e-5, 1e-8)


def test_zero_dimensional_arrays_keep_their_shape():
    body, _ = roundtrip({"x": np.asarray(2.5), "y": np.zeros((0, 3))})
    assert body["x"].shape == () and body["x"] == 2.5
    assert body["y"].shape == (0, 3)


def test_relayed_messages_pass_unchanged_and_a_bad_body_leaves_the_stream_in_step():
    first = encode({"x": np.arange(3.0)})
    bad = raw_message({"body": {"x": {"__float__": "zero"}}, "frames": []}).getvalue()
    stream = io.BytesIO(first + bad + first)
    assert protocol.read_raw_message(stream) == first
    with pytest.raises(protocol.BodyError):
        read_message(stream)
    body, _ = read_message(stream)
    np.testing.assert_array_equal(body["x"], np.arange(3.0))
    with pytest.raises(ProtocolError):  # framing is still checked when relaying
        protocol.read_raw_message(io.BytesIO(struct.pack(">I", protocol.MAX_HEADER_BYTES + 1)))
