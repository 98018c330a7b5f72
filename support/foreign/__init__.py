"""Re-typed copies of published operator blocks whose repositories are not packages, for the capture tests.

Each sits at a module path that ends like the original file, so that nlviz's class keys
(:mod:`nlviz.extract.adapters`) match it as they match the original in a user's project:

- ``bat.model_zoo.non_local``: BA-Transform/BAT-Image-Classification ``model_zoo/non_local.py`` (Apache-2.0,
  Copyright 2020 Lu Chi): ``BATransform``, ``BATBlock``;
- ``bat_video.models.non_local``: BA-Transform/BAT-Video-Classification ``models/non_local.py`` (Apache-2.0,
  Copyright 2020 Lu Chi): the 3D ``BATransform`` (with ``conv_t``) and ``BATBlock``;
- ``cgnl.model.resnet``: KaiyuYue/cgnl-network.pytorch ``model/resnet.py`` (MIT, Copyright (c) 2018 Kaiyu Yue):
  ``SpatialCGNL``, ``SpatialCGNLx``;
- ``spatialbias.SB_module`` and ``spatialbias.resnet``: GoJunHyeong/SpatialBias ``SB_module.py``
  (``Spatial_bias``) and its ``resnet.py`` ``Bottleneck``.

Class names, attribute names and the forwards' arithmetic are the published ones, hazards included (the
official SB drops the batch at B=1; the image BAT needs square maps). What was changed, and only that: CGNL's
``.cuda()`` is dropped (the math runs on any device) and its ``termcolor`` console warnings are not printed;
only the classes the tests need are kept. These files are modified copies, as the licenses require saying.
"""
