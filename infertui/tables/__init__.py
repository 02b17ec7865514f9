"""Rich tables the CLI prints and the app shows alike: the column fitting by
priority (`fit`), a campaign's result tables (`campaign`) and the check
tables (`checks`). They import Rich, never Textual, the app or the CLI."""
