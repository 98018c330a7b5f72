"""Re-typed copies of published operator blocks whose repositories are not installable packages, so the capture
tests run their real forward passes.

Each copy keeps the original class names, attribute names and forward arithmetic (hazards included: the official
SB drops the batch at B=1; the image BAT needs square maps), and sits where its module path ends like the
original file (``support.foreign.slowfast.models.nonlocal_helper`` ends with ``slowfast.models.nonlocal_helper``):
nlviz finds foreign classes by that suffix, so the tests check the matching as it works on the real
repositories. Subfolders are namespace packages, as a repository's folders are when its scripts import them.

- ``slowfast`` / ``slowfast_bn``: facebookresearch/SlowFast ``slowfast/models/nonlocal_helper.py`` (two revisions);
- ``alexhex7``: AlexHex7/Non-local_pytorch ``lib/non_local_*.py`` and ``lib/network.py`` (Apache-2.0);
- ``cgnl``, ``cgnl_nl``: KaiyuYue/cgnl-network.pytorch ``model/resnet.py`` (MIT, Copyright (c) 2018 Kaiyu Yue):
  ``SpatialCGNL``, ``SpatialCGNLx`` and ``SpatialNL``;
- ``bat``, ``bat_nl``, ``bat_video``: BA-Transform/BAT-Image-Classification ``model_zoo/non_local.py`` and
  BAT-Video-Classification ``models/non_local.py`` (Apache-2.0, Copyright 2020 Lu Chi);
- ``spatialbias``: GoJunHyeong/SpatialBias ``SB_module.py`` (``Spatial_bias``) and ``resnet.py`` (``Bottleneck``).

What was changed, and only that, is said in each module's docstring (e.g. CGNL's ``.cuda()`` dropped so the math
runs on any device, console prints removed). These files are modified copies, as the licenses require saying.
"""
