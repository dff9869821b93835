"""The config language: raw config resolved into frozen specs, every error collected at once."""
