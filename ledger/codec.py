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


class CompiledTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self._encode_obj, option=PASS_THROUGH)

    def decode(self, data: bytes) -> Any:
        return self._typed(orjson.loads(data))

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
                if type(item) is dict or type(item) is list:
                    value[key] = self._typed(item)
        elif type(value) is list:
            for index, item in enumerate(value):
                if type(item) is dict or type(item) is list:
                    value[index] = self._typed(item)
        return value
