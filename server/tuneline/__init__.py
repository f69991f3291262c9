"""Tuneline: fine-tuning datasets and runs, first-class in the editor."""

__version__ = "0.1.0"
