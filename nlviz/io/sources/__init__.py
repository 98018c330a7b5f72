"""Block key maps of public operator code, one file per operator family; importing this package registers them in
:data:`nlviz.io.registries.SOURCES`."""

from nlviz.io.sources import bat, cgnl, nonlocal_block, spatial_bias  # noqa: F401
