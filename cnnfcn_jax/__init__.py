"""cnnfcn_jax: convolutional vs fully-connected networks on k-patterns, in JAX."""

__version__ = "0.9.0"  # CHANGELOG.md; pyproject.toml reads it
