"""Weight initialisation shared by the course's GANs (notebooks 04, 06-08).

DCGAN (Radford et al. 2016, Sec. 4) and pix2pix / CycleGAN (Isola et al. 2017, Sec. 3.3; Zhu et al. 2017)
initialise every convolution from N(0, 0.02) and every BatchNorm scale from N(1, 0.02).
"""
from __future__ import annotations

from torch import nn


def init_weights(net: nn.Module, init_type: str = "normal", init_gain: float = 0.02) -> nn.Module:
    """Initialise ``net`` in place as pix2pix/CycleGAN do (Isola et al. 2017, Sec. 3.3; DCGAN,
    Radford et al. 2016): convolution and linear weights from N(0, ``init_gain``) (``"normal"``, the
    papers' choice) or Xavier / Kaiming / orthogonal; their biases 0; BatchNorm scales from
    N(1, ``init_gain``) and shifts 0. Returns ``net``.

    Raises:
        ValueError: for an unknown ``init_type``.
    """
    if init_type not in ("normal", "xavier", "kaiming", "orthogonal"):
        raise ValueError(f"init_type must be normal, xavier, kaiming or orthogonal, got {init_type!r}")
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            if init_type == "normal":
                nn.init.normal_(m.weight, 0.0, init_gain)
            elif init_type == "xavier":
                nn.init.xavier_normal_(m.weight, gain=init_gain)
            elif init_type == "kaiming":
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            else:
                nn.init.orthogonal_(m.weight, gain=init_gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, init_gain)
            nn.init.zeros_(m.bias)
    return net
