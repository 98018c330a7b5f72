"""The ``nlviz`` console script."""
