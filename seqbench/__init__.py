"""seqbench: compare sequence architectures under one harness."""
__version__ = "0.1.0"
