"""The three streaming wire formats: one module each, one shared interface."""

from __future__ import annotations

from infertui.core.targets import Api
from infertui.core.wire import anthropic, gemini, openai
from infertui.core.wire.base import WireFormat

FORMATS: dict[Api, WireFormat] = {
    Api.OPENAI: openai.FORMAT,
    Api.ANTHROPIC: anthropic.FORMAT,
    Api.GEMINI: gemini.FORMAT,
}


def wire_format(api: Api | str) -> WireFormat:
    return FORMATS[Api(api)]
