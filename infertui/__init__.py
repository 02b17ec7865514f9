"""infertui: measure how the same LLM behaves on different inference providers."""

__version__ = "0.1.0"
