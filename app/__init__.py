"""clinx-serve: serving CLIN-X clinical concept taggers over HTTP."""

__version__ = "0.1.0"
