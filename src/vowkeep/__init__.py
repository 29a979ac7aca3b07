"""vowkeep: a privacy policy declared as code, rendered, and enforced at run time."""

__version__ = "0.1.0"
