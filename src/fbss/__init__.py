"""FBSS Navigator: explainable clinical decision support for persistent spinal pain syndrome type 2."""

__version__ = "0.1.0"
