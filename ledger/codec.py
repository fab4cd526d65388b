"""The ledger's event codec: the library's JSON format, encoded and decoded by orjson.

Stored events keep the library's format exactly: compact JSON, UTF-8, and every value of a
registered type (a date, a datetime, an actor) as `{"_type_": name, "_data_": …}`. orjson does
the parsing and printing in compiled code; only those typed values go through Python, on the way
out by orjson's `default` hook (dates and dataclasses are passed to it rather than printed its
own way) and on the way in by one walk of the decoded structure. Either codec reads what the
other wrote (tests/unit/test_codec.py).
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

PASS_THROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# Values of these types are immutable, and the same few recur in event after event (the actors of
# a bank's commands): each distinct one is decoded once and shared. Bounded, as a log may hold
# any number of distinct ones.
SHARED = frozenset({"actor", "date_iso"})
SHARED_KEPT_MAX = 10_000


class CompiledTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        self._shared: dict[tuple[Any, ...], Any] = {}

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self._encode_obj, option=PASS_THROUGH)

    def decode(self, data: bytes) -> Any:
        value = orjson.loads(data)
        if type(value) is not dict or "_type_" in value:
            return self._typed(value)
        # An event's state: its fields decoded here, without a call for the state itself.
        for key, item in value.items():
            kind = type(item)
            if kind is dict:
                value[key] = self._typed_dict(item)
            elif kind is list and item:
                value[key] = self._typed(item)
        return value

    def _typed(self, value: Any) -> Any:
        """`value` with every `{"_type_": …, "_data_": …}` in it decoded, innermost first."""
        if type(value) is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                data = value["_data_"]
                if type(data) is dict or type(data) is list:
                    data = self._typed(data)
                transcoding = self.names.get(value["_type_"])
                if transcoding is None:
                    return self._decode_obj(value)  # the library's refusal of an unknown type
                return transcoding.decode(data)
            for key, item in value.items():
                kind = type(item)
                if kind is dict:
                    value[key] = self._typed_dict(item)
                elif kind is list and item:
                    value[key] = self._typed(item)
        elif type(value) is list:
            for index, item in enumerate(value):
                if type(item) is dict or type(item) is list:
                    value[index] = self._typed(item)
        return value

    def _typed_dict(self, value: dict[str, Any]) -> Any:
        """`_typed` of a dict inside another: an event's typed fields (its timestamp, actor and
        business date) decoded here without a call per level, and the shared ones looked up."""
        if len(value) != 2 or "_type_" not in value or "_data_" not in value:
            return self._typed(value)
        name, data = value["_type_"], value["_data_"]
        transcoding = self.names.get(name)
        if transcoding is None:
            return self._typed(value)  # the library's refusal of an unknown type
        if name not in SHARED:
            if type(data) is dict or type(data) is list:
                data = self._typed(data)
            return transcoding.decode(data)
        if type(data) is dict:
            # An empty text is not shared: a decoder may fill it afresh (an actor's request id).
            if "" in data.values():
                return transcoding.decode(self._typed(data))
            key: tuple[Any, ...] = (name, *data.items())
        elif type(data) is str:
            key = (name, data)
        else:
            return transcoding.decode(self._typed(data) if type(data) is list else data)
        try:
            found = self._shared.get(key)
        except TypeError:  # nested data (unhashable) is decoded as usual, and not shared
            return transcoding.decode(self._typed(data))
        if found is None:
            if len(self._shared) >= SHARED_KEPT_MAX:
                self._shared.clear()
            found = self._shared[key] = transcoding.decode(data)
        return found
