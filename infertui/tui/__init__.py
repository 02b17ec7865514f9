"""The Textual app: renders what the core measured, never measures."""
