"""course_lib.receptive_field: the arithmetic against hand-computed values, PyTorch and gradients."""
import pytest
import torch
from torch import nn

from course_lib.models.dense import UNet
from course_lib.models.pix2pix import NLayerDiscriminator, PixelDiscriminator
from course_lib.receptive_field import (ReceptiveField, UnsupportedLayerError, conv_output_size,
                                        empirical_receptive_field, receptive_field)


@pytest.mark.parametrize("n,k,s,p,d", [(28, 3, 1, 0, 1), (256, 4, 2, 1, 1), (255, 4, 2, 1, 1), (32, 3, 2, 2, 2),
                                       (9, 3, 3, 0, 1), (64, 7, 2, 3, 1), (5, 5, 1, 0, 1), (17, 3, 4, 1, 3)])
def test_conv_output_size_matches_pytorch(n, k, s, p, d):
    expected = nn.Conv2d(1, 1, k, s, p, d)(torch.zeros(1, 1, n, n)).shape[-1]
    assert conv_output_size(n, k, s, p, d) == expected


@pytest.mark.parametrize("args", [(0, 3), (5, 0), (5, 3, 0), (5, 3, 1, -1), (3, 5), (5, 3, 1, 0, 0), (5.5, 3)])
def test_conv_output_size_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        conv_output_size(*args)


def test_hand_computed_stacks():
    three = nn.Sequential(*[nn.Conv2d(1, 1, 3) for _ in range(3)])
    assert receptive_field(three) == ReceptiveField((7, 7), (1, 1), (0, 0))
    # conv5 (r=5) -> pool2 (+1*1, jump 2) -> conv3 dil 2 (+4*2): 14, jump 2
    mixed = nn.Sequential(nn.Conv2d(1, 1, 5), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, dilation=2))
    rf = receptive_field(mixed)
    assert (rf.size, rf.stride, rf.padding) == (14, 2, 0)
    # padding accumulates with the jump: 1 + 1*2 = 3
    padded = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(1, 1, 3, padding=1))
    assert receptive_field(padded).padding == 3
    assert receptive_field(nn.Sequential(nn.AvgPool2d(3, stride=3), nn.Conv2d(1, 1, 2))).size == 6


def test_nested_sequential_and_pointwise_layers_are_walked():
    inner = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.LeakyReLU(0.2), nn.Dropout2d(0.1))
    model = nn.Sequential(inner, nn.Sequential(nn.Conv2d(4, 1, 3, dilation=3), nn.Tanh()))
    assert receptive_field(model).size == 1 + 2 + 6


def test_non_square_kernels_give_per_axis_values():
    rf = receptive_field(nn.Sequential(nn.Conv2d(1, 1, (3, 5)), nn.Conv2d(1, 1, (1, 3), stride=(1, 2))))
    assert rf.size_hw == (3, 7) and rf.size == (3, 7)
    assert rf.stride_hw == (1, 2)


def test_patchgan_family_matches_the_paper():
    sizes = [receptive_field(PixelDiscriminator(3, 4)).size] + [
        receptive_field(NLayerDiscriminator(3, 4, n_layers=n)).size for n in (1, 3, 5)]
    assert sizes == [1, 16, 70, 286]


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_empirical_equals_analytic_for_patchgans(n_layers):
    D = NLayerDiscriminator(3, ndf=4, n_layers=n_layers)
    analytic = receptive_field(D).size
    assert empirical_receptive_field(D, analytic + 40, n_trials=3) == analytic


def test_empirical_with_max_pooling_needs_the_union_over_inputs():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3), nn.MaxPool2d(2), nn.Conv2d(2, 1, 3))
    analytic = receptive_field(net).size
    assert empirical_receptive_field(net, 64, n_trials=16) == analytic


def test_empirical_leaves_the_model_untouched():
    D = NLayerDiscriminator(3, ndf=4, n_layers=1).train()
    before = {k: v.clone() for k, v in D.state_dict().items()}
    empirical_receptive_field(D, 40)
    assert D.training and next(D.parameters()).dtype == torch.float32
    assert all(torch.equal(before[k], v) for k, v in D.state_dict().items())


def test_empirical_warns_when_the_field_is_clipped_by_the_input():
    with pytest.warns(UserWarning, match="larger input_size"):
        empirical_receptive_field(NLayerDiscriminator(3, ndf=4, n_layers=3), 48)


def test_unsupported_layers_are_named_and_point_to_the_empirical_function():
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(1, 1, 3)))
    with pytest.raises(UnsupportedLayerError, match=r"'1\.0' \(Upsample\).*empirical_receptive_field"):
        receptive_field(model)
    with pytest.raises(UnsupportedLayerError, match="UNet"):
        receptive_field(UNet(1, 2, 4))
    with pytest.raises(UnsupportedLayerError, match="ConvTranspose2d"):
        receptive_field(nn.Sequential(nn.ConvTranspose2d(1, 1, 2, 2)))


def test_empirical_handles_skip_connections():
    size = empirical_receptive_field(UNet(1, 2, 4), 128, n_trials=2)
    assert isinstance(size, int) and 40 < size < 128
