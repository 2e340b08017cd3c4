"""Knowledge-graph service for 党建联建 (joint party-building) networks."""

__version__ = "0.1.0"
