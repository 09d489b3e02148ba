"""ragis: self-hosted Retrieval-Augmented Generation in which Redis 8 does every storage job."""

__version__ = "0.1.0"
