"""regiograph: a knowledge graph and multilingual search of European regional-policy practice."""

__version__ = "0.1.0"
