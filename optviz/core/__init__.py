"""Pure numerics: surfaces, the optimizer registry, the race engine and scenes.

Nothing in this package imports Qt, pyqtgraph or OpenGL (tests/core/test_purity.py proves it),
and torch is imported only where a library optimizer actually runs.
"""
