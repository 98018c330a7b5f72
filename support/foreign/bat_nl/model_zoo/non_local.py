"""BAT's plain non-local block ``NonLocal`` (BA-Transform/BAT-Image-Classification ``model_zoo/non_local.py``,
commit 76275b5, Apache-2.0), re-typed for the capture tests: same classes, attribute names and forward math —
``t``, ``p``, ``g`` with biases (C → C/2), softmax over keys of tᵀp, divided by √(C/2) (C') when ``use_scale``
(the default), then ``z``, ``bn`` and the residual.

Only ``NonLocalModule`` (its base, with the repository's init) and ``NonLocal`` are copied; the file's BAT blocks
(``BATransform``, ``BATBlock``) and ``get_nonlocal_block`` are not needed here. Its forward is CGNL's
``SpatialNL.forward`` word for word, so this copy takes that copy's function.
"""

from torch import nn

from support.foreign.cgnl_nl.model.resnet import SpatialNL


class NonLocalModule(nn.Module):
    def __init__(self, in_channels, **kwargs):
        super().__init__()

    def init_modules(self):
        for name, m in self.named_modules():
            if len(m._modules) > 0:
                continue
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if len(list(m.parameters())) > 1:
                    nn.init.constant_(m.bias, 0.0)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 0)
                nn.init.constant_(m.bias, 0)
            elif len(list(m.parameters())) > 0:
                raise ValueError("UNKOWN NONLOCAL LAYER TYPE:", name, m)


class NonLocal(NonLocalModule):
    """Spatial NL block for image classification (after facebookresearch/video-nonlocal-net)."""

    def __init__(self, inplanes, use_scale=True, **kwargs):
        planes = inplanes // 2
        self.use_scale = use_scale
        super().__init__(inplanes)
        self.t = nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, bias=True)
        self.p = nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, bias=True)
        self.g = nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, bias=True)
        self.softmax = nn.Softmax(dim=2)
        self.z = nn.Conv2d(planes, inplanes, kernel_size=1, stride=1, bias=True)
        self.bn = nn.BatchNorm2d(inplanes)

    forward = SpatialNL.forward  # word for word CGNL's SpatialNL.forward (the source of both)
