"""Real small networks: data sets that load offline, a model zoo, and helpers shared by learned surfaces and
the training panel. Everything here imports torch; `optviz.core` itself does not import this package."""
