"""BA-Transform/BAT-Video-Classification ``models/non_local.py``: the 3D ``BATransform`` and ``BATBlock``, re-typed.

Apache-2.0, Copyright 2020 Lu Chi; modified copy (only these classes and their base; see :mod:`support.foreign`).
The forward is the published one: per-frame P and Q (softmax), of side ``matrix_size`` = H // (H // s): s when
s divides H; otherwise (only s + 1 runs: the Q path hard-codes two windows) the average of the overlapping s×s
windows the convs give along the pooled axis, cells no window covers left at 0 before the softmax. With
``tk > 0`` the temporal transform T (softmax, ``conv_t`` on o average-pooled to (ts, 1, 1)) follows.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class NonLocalModule(nn.Module):
    def __init__(self, in_channels, **kwargs):
        super().__init__()

    def init_modules(self, zero_bn=True):
        bn_w = 0.0 if zero_bn else 1.0
        for name, m in self.named_modules():
            if len(m._modules) > 0:
                continue
            if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.Conv1d)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if len(list(m.parameters())) > 1:
                    nn.init.constant_(m.bias, 0.0)
            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d, nn.BatchNorm1d, nn.GroupNorm)):
                nn.init.constant_(m.weight, bn_w)
                nn.init.constant_(m.bias, 0)
            elif len(list(m.parameters())) > 0:
                raise ValueError("UNKOWN NONLOCAL LAYER TYPE:", name, m)


class BATransform(nn.Module):
    def __init__(self, in_channels, s, ts, k, tk):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv3d(in_channels, k, 1), nn.BatchNorm3d(k), nn.ReLU(inplace=True))
        self.conv_p = nn.Conv3d(k, s * s * k, [1, s, 1])
        self.conv_q = nn.Conv3d(k, s * s * k, [1, 1, s])
        if tk > 0:
            self.conv_t = nn.Conv3d(k, ts * ts * tk, [ts, 1, 1])
        self.conv2 = nn.Sequential(
            nn.Conv3d(in_channels, in_channels, 1), nn.BatchNorm3d(in_channels), nn.ReLU(inplace=True)
        )
        self.s = s
        self.ts = ts
        self.k = k
        self.tk = tk
        self.in_channels = in_channels

    def extra_repr(self):
        return "BATransform({in_channels}, ts={ts}, s={s}, k={k}, tk={tk})".format(**self.__dict__)

    def resize_mat(self, x, t):
        n, c, st, s, s1 = x.shape
        assert s == s1
        if t <= 1:
            return x
        x = x.view(n * c * st, -1, 1, 1)
        x = x * torch.eye(t, t, dtype=x.dtype, device=x.device)
        x = x.view(n * c * st, s, s, t, t)
        x = torch.cat(torch.split(x, 1, dim=1), dim=3)
        x = torch.cat(torch.split(x, 1, dim=2), dim=4)
        return x.view(n, c, st, s * t, s * t)

    def _windows(self, conv_out, n, t, matrix_size, windows):
        """Average of the overlapping s×s matrices along the diagonal of a matrix_size² one (published loop)."""
        ones = conv_out.new_ones((1, 1, matrix_size, matrix_size, 1), requires_grad=False)
        m = conv_out.new_zeros(n, self.k, matrix_size, matrix_size, t)
        out = conv_out.view(n, self.k, self.s, self.s, t, windows)
        count = conv_out.new_zeros((1, 1, matrix_size, matrix_size, 1), requires_grad=False)
        for i in range(out.size(5)):
            m[:, :, i : self.s + i, i : self.s + i, :] += out[:, :, :, :, :, i]
            count[:, :, i : self.s + i, i : self.s + i, :] += 1
        count = torch.where(count > 0, count, ones)
        return m / count

    def forward(self, x):
        scale_times = x.size(3) // self.s
        matrix_size = x.size(3) // scale_times
        out = self.conv1(x)
        n, _, t, h, w = out.size()
        c = x.size(1)
        rp = F.adaptive_max_pool3d(out, (t, matrix_size, 1))
        cp = F.adaptive_max_pool3d(out, (t, 1, matrix_size))
        if matrix_size == self.s:
            p = self.conv_p(rp).view(n, self.k, self.s, self.s, t)
            q = self.conv_q(cp).view(n, self.k, self.s, self.s, t)
        else:  # the published code: any number of windows for P, exactly 2 for Q
            p = self._windows(self.conv_p(rp), n, t, matrix_size, -1)
            q = self._windows(self.conv_q(cp), n, t, matrix_size, 2)
        p = F.softmax(p, dim=3)
        q = F.softmax(q, dim=2)
        ms = matrix_size
        p = p.view(n, self.k, 1, ms, ms, t).expand(n, self.k, c // self.k, ms, ms, t).contiguous()
        p = p.view(n, c, ms, ms, t).permute(0, 1, 4, 2, 3).contiguous()  # (n, C, t, ms, ms)
        q = q.view(n, self.k, 1, ms, ms, t).expand(n, self.k, c // self.k, ms, ms, t).contiguous()
        q = q.view(n, c, ms, ms, t).permute(0, 1, 4, 2, 3).contiguous()
        p = self.resize_mat(p, h // ms)
        q = self.resize_mat(q, w // ms)
        y = p.matmul(x)
        y = y.matmul(q)
        if self.tk > 0:
            tp = F.adaptive_avg_pool3d(out, (self.ts, 1, 1))
            tm = F.softmax(self.conv_t(tp).view(n, self.tk, self.ts, self.ts), dim=3)
            tm = tm.view(n, self.tk, 1, 1, 1, self.ts, self.ts)
            tm = tm.expand(n, self.tk, c // self.tk, h, w, self.ts, self.ts).contiguous()
            tm = tm.view(n, c, h * w, self.ts, self.ts)
            tm = self.resize_mat(tm, t // self.ts).view(n, c, h, w, t, t)
            y = y.permute(0, 1, 3, 4, 2).contiguous().view(n, c, h, w, t, 1)
            y = tm.matmul(y).squeeze(-1).permute(0, 1, 4, 2, 3).contiguous()
        return self.conv2(y)


class BATBlock(NonLocalModule):
    def __init__(self, in_channels, r=2, s=7, ts=4, k=4, tk=1, dropout=0.2, **kwargs):
        super().__init__(in_channels)
        inter_channels = in_channels // r
        self.conv1 = nn.Sequential(
            nn.Conv3d(in_channels, inter_channels, 1), nn.BatchNorm3d(inter_channels), nn.ReLU(inplace=True)
        )
        self.batransform = BATransform(inter_channels, s, ts, k, tk)
        self.conv2 = nn.Sequential(
            nn.Conv3d(inter_channels, in_channels, 1), nn.BatchNorm3d(in_channels), nn.ReLU(inplace=True)
        )
        self.dropout = nn.Dropout3d(p=dropout)

    def forward(self, x):
        return self.dropout(self.conv2(self.batransform(self.conv1(x)))) + x  # xl, transform, restore, + x

    def init_modules(self):
        super().init_modules(zero_bn=False)
