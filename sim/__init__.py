"""hemsim: an agent-based simulator of global higher-education mobility."""

__version__ = "0.1.0"
