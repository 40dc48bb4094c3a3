"""optviz: watch deep-learning optimizers race on loss surfaces."""

__version__ = "0.1.0"
