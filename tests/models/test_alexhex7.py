"""AlexHex7's released MNIST network: strict import of net.pth, its sample classified as 7, and the
publisher's own attention maps (nl_map_1/2.npy) reproduced by our ``affinity`` to ≤1e-5."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nlviz.io.layouts.alexhex7 import load_alexhex7_state_dict
from nlviz.models.alexhex7 import AlexHex7MNIST


@pytest.fixture(scope="module")
def net(alexhex7_dir):
    sd = torch.load(alexhex7_dir / "net.pth", weights_only=True, map_location="cpu")
    model = AlexHex7MNIST()
    result = model.load_state_dict(load_alexhex7_state_dict(sd), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return model.eval()


@pytest.fixture(scope="module")
def sample(alexhex7_dir):
    import cv2

    img = cv2.imread(str(alexhex7_dir / "sample.png"), cv2.IMREAD_GRAYSCALE)
    assert img is not None and img.shape == (28, 28)
    return torch.from_numpy(img).float().div(255).reshape(1, 1, 28, 28)


def test_classifies_sample_as_seven(net, sample):
    with torch.no_grad():
        logits = net(sample)
        features = net.forward_features(sample)
    assert logits.shape == (1, 10) and features.shape == (1, 128, 3, 3)
    assert logits.argmax(1).item() == 7
    torch.testing.assert_close(net.fc(features.flatten(1)), logits)


def test_reproduces_publisher_attention_maps(net, sample, alexhex7_dir):
    with torch.no_grad():
        x1 = net.conv_1(sample)  # input of nl_1: (1, 32, 14, 14)
        x2 = net.conv_2(net.nl_1(x1))  # input of nl_2: (1, 64, 7, 7)
        aff1, aff2 = net.nl_1.affinity(x1), net.nl_2.affinity(x2)
    assert (aff1.query_grid, aff1.key_grid) == ((1, 14, 14), (1, 7, 7))
    assert (aff2.query_grid, aff2.key_grid) == ((1, 7, 7), (1, 3, 3))
    for aff, name, shape in ((aff1, "nl_map_1.npy", (1, 196, 49)), (aff2, "nl_map_2.npy", (1, 49, 9))):
        want = np.load(alexhex7_dir / name)
        ours = aff.rows()[:, 0].numpy()  # (B, Nq, Nk), queries and keys row-major (y, x) as the publisher's
        assert want.shape == ours.shape == shape
        assert np.abs(ours - want).max() <= 1e-5, f"{name}: max abs error {np.abs(ours - want).max():.3g}"
        assert aff.normalized and aff.kind == "softmax"


def test_converter_maps_every_released_key(alexhex7_dir):
    sd = torch.load(alexhex7_dir / "net.pth", weights_only=True, map_location="cpu")
    converted = load_alexhex7_state_dict(sd)
    assert converted.keys() == AlexHex7MNIST().state_dict().keys()
    assert torch.equal(converted["nl_1.conv_out.weight"], sd["module.nl_1.W.0.weight"])
    assert torch.equal(converted["nl_2.norm.running_var"], sd["module.nl_2.W.1.running_var"])
    assert torch.equal(converted["nl_1.phi.weight"], sd["module.nl_1.phi.0.weight"])
    with pytest.raises(ValueError, match=r"unexpected key\(s\) \['fc\.1\.weight'\]"):
        load_alexhex7_state_dict({**sd, "module.fc.1.weight": torch.zeros(1)})


def test_wrong_input_shape_is_an_error():
    with pytest.raises(ValueError, match=r"expects \(B, 1, 28, 28\).*\(1, 3, 28, 28\)"):
        AlexHex7MNIST()(torch.zeros(1, 3, 28, 28))
