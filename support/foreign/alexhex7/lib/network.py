"""AlexHex7/Non-local_pytorch ``lib/network.py`` (commit 0276c7b, Apache-2.0), re-typed: the released MNIST
network (``weights/net.pth``, saved from ``nn.DataParallel``, hence its ``module.`` key prefix) with two
embedded-gaussian ``NONLocalBlock2D`` of this folder's copy. Left out: the ``__main__`` demo.
"""

from torch import nn

from .non_local_embedded_gaussian import NONLocalBlock2D


def _conv(c_in, c_out):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, stride=1, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)
    )


class Network(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_1 = _conv(1, 32)
        self.nl_1 = NONLocalBlock2D(in_channels=32)
        self.conv_2 = _conv(32, 64)
        self.nl_2 = NONLocalBlock2D(in_channels=64)
        self.conv_3 = _conv(64, 128)
        self.fc = nn.Sequential(nn.Linear(128 * 3 * 3, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))

    def forward(self, x):
        batch_size = x.size(0)
        nl_feature_1 = self.nl_1(self.conv_1(x))
        nl_feature_2 = self.nl_2(self.conv_2(nl_feature_1))
        return self.fc(self.conv_3(nl_feature_2).view(batch_size, -1))

    def forward_with_nl_map(self, x):
        batch_size = x.size(0)
        nl_feature_1, nl_map_1 = self.nl_1(self.conv_1(x), return_nl_map=True)
        nl_feature_2, nl_map_2 = self.nl_2(self.conv_2(nl_feature_1), return_nl_map=True)
        output = self.fc(self.conv_3(nl_feature_2).view(batch_size, -1))
        return output, [nl_map_1, nl_map_2]
