"""The names of cached results: 8 hex digits of a hash of what defines a run.

TrainConfig, compare's Run and Problem 1's config name their results with
short_hash(). CACHE_VERSION is part of every hash: raising it renames, and so
recomputes, every cached result at once.
"""
from __future__ import annotations

import hashlib
import json

CACHE_VERSION = 2


def short_hash(data: dict) -> str:
    """8 hex digits of the SHA-1 of [CACHE_VERSION, data] as sorted JSON."""
    text = json.dumps([CACHE_VERSION, data], sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:8]
