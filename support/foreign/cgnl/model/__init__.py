"""Package marker: see support.foreign."""
