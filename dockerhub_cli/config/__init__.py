"""Configuration: settings and the config file."""
