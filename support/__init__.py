"""Support code of nlviz's tests and benchmarks: not part of the library, never installed, never imported by it.

One concept per module, each imported as ``from support.<module> import ...`` by tests/ and bench/ alike (the
repository root is on ``sys.path``: pytest's ``pythonpath`` setting in pyproject.toml, ``sys.path.insert`` at
the top of each bench script):

- ``randomize``: seeded random weights for any module (no check passes on a zero or identity init);
- ``refs``: the reference packages (timm, mmaction2) imported without what their wheels lack (tests and bench);
- ``state_dicts``: comparing, copying and editing state dicts;
- ``py2_pickles``: Python-2 pickles and Caffe2 ``{'blobs': ...}`` files as video-nonlocal-net wrote them;
- ``toy_ops``: two toy operators and the per-operator options of the model tests;
- ``videos``: writing frames as video files (OpenCV, PyAV);
- ``checkpoints``: tiny randomly initialized checkpoints with cards (the app's zoo, the export tests' model);
- ``export_inputs``: folders of good and bad export inputs;
- ``factories``: a user's model from code (a factory file around an mmcv ``NonLocal2d``) and its saved weights;
- ``app``: the app folder on ``sys.path``, the reference computation of a page, bad upload payloads;
- ``foreign``: re-typed copies of published blocks from repositories that are not packages (SlowFast, AlexHex7,
  the official CGNL, BAT and Spatial Bias code), at module paths ending like the originals (nlviz matches
  classes by that), for the capture adapter tests;
- ``markdown``: markdown tables and the rewrite of one section of bench/README.md (bench/harness.py, the
  browser test).

The benchmarks use ``refs`` and ``markdown`` only, which (like ``randomize``) do not need pytest.
"""
