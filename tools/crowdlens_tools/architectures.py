"""The torchvision architectures the tools train, export and compare, each with its 2-logit head.

Every architecture is fed the same input (the model contract: 224x224 RGB,
Resize(224) + CenterCrop(224), ImageNet mean/std), so one manifest shape and
one TypeScript preprocessor serve them all. That is also what torchvision's
ImageNet weights for each of them expect, up to the resize size and
interpolation of their own eval recipes (e.g. 232/236 bicubic), which
fine-tuning absorbs.

Pretrained weights only come from a file the user supplies (nothing is
downloaded): a torchvision ImageNet state_dict for the same architecture,
whose 1000-class head is replaced by the 2-class one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .common import INPUT_SIZE, LABELS, fail, log, strip_prefix


@dataclass(frozen=True)
class Arch:
    name: str
    # Dotted path of the final Linear layer that becomes the [female, male] head.
    head: str
    # What the study reported for it, if anything (for the compare table's context column).
    study: str | None
    # Builds the torchvision model with its ImageNet-shaped head (so a torchvision .pth loads as is).
    build: Callable[[], Any]
    # Keys a torchvision ImageNet state_dict may carry that this build does not use.
    ignorable: tuple[str, ...] = ()


def _tv(fn_name: str, **kwargs: Any) -> Callable[[], Any]:
    def build() -> Any:
        import torchvision.models as m

        return getattr(m, fn_name)(weights=None, **kwargs)

    return build


ARCHS: dict[str, Arch] = {
    a.name: a
    for a in (
        Arch("resnet50", "fc", "98% on 1,000 CelebA test images", _tv("resnet50")),
        Arch("resnet18", "fc", "94%", _tv("resnet18")),
        # transform_input: torchvision's GoogLeNet ImageNet weights were trained on differently
        # normalised input; the in-graph affine keeps the external contract ImageNet mean/std.
        # The auxiliary heads only help training from scratch on ImageNet and are dropped.
        Arch("googlenet", "fc", "95%", _tv("googlenet", aux_logits=False, transform_input=True, init_weights=True), ("aux1.", "aux2.")),
        Arch("vgg19", "classifier.6", "92%", _tv("vgg19")),
        Arch("mobilenet_v2", "classifier.1", "92.6% (another dataset)", _tv("mobilenet_v2")),
        Arch("efficientnet_b0", "classifier.1", "future work", _tv("efficientnet_b0")),
        Arch("convnext_tiny", "classifier.2", "future work", _tv("convnext_tiny")),
        Arch("vit_b_16", "heads.head", "future work", _tv("vit_b_16", image_size=INPUT_SIZE)),
    )
}
DEFAULT_ARCH = "resnet50"


def get_arch(name: str) -> Arch:
    if name not in ARCHS:
        fail(f"unknown architecture {name!r}; known: {', '.join(ARCHS)}")
    return ARCHS[name]


def _get(module: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        module = module[int(part)] if part.isdigit() else getattr(module, part)
    return module


def _set(module: Any, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    owner = _get(module, ".".join(parents)) if parents else module
    if last.isdigit():
        owner[int(last)] = value
    else:
        setattr(owner, last, value)


def replace_head(model: Any, arch: Arch, num_classes: int = len(LABELS)) -> Any:
    import torch.nn as nn

    old = _get(model, arch.head)
    if not isinstance(old, nn.Linear):
        fail(f"{arch.name}: {arch.head} is a {type(old).__name__}, expected Linear")
    _set(model, arch.head, nn.Linear(old.in_features, num_classes))
    return model


def head_features(model: Any, arch: Arch) -> tuple[int, int]:
    head = _get(model, arch.head)
    return head.in_features, head.out_features


def build_model(arch_name: str, pretrained: str | None = None, num_classes: int = len(LABELS), warn_random: bool = True):
    """torchvision `arch_name` with its head -> num_classes; ImageNet weights only from a local file."""
    import torch

    arch = get_arch(arch_name)
    model = arch.build()
    if pretrained:
        try:
            state = torch.load(pretrained, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            fail(f"--pretrained {pretrained} does not exist")
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        if not isinstance(state, dict):
            fail(f"{pretrained} holds a {type(state).__name__}, expected a torchvision state_dict")
        state = {k: v for k, v in strip_prefix(state).items() if not k.startswith(arch.ignorable)}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            fail(
                f"{pretrained} is not a torchvision {arch.name} state_dict "
                f"(missing {list(missing)[:3]}, unexpected {list(unexpected)[:3]})"
            )
        log(f"{arch.name}: initialised from {pretrained}")
    elif warn_random:
        log(f"warning: no --pretrained given: {arch.name} starts from random weights (the study fine-tuned ImageNet weights)")
    return replace_head(model, arch, num_classes)


def build_for_checkpoint(arch_name: str, state: dict[str, Any], source: str):
    """An architecture with a 2-logit head, loaded strictly from a fine-tuned state_dict."""
    arch = get_arch(arch_name)
    key = f"{arch.head}.weight"
    weight = state.get(key)
    if weight is None:
        fail(f"{source} has no {key}: not a torchvision {arch.name} state_dict (pass --arch if it is another architecture)")
    if int(weight.shape[0]) != len(LABELS):
        fail(f"{source} {key} is {tuple(weight.shape)}: {weight.shape[0]} outputs, expected {len(LABELS)} logits [female, male]")
    model = replace_head(arch.build(), arch)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        fail(f"{source} does not fit torchvision {arch.name}: {str(err).splitlines()[0]}")
    return model


def describe(model: Any, arch_name: str) -> str:
    arch = get_arch(arch_name)
    in_features, out = head_features(model, arch)
    return f"torchvision {arch.name}, {arch.head} {in_features}->{out}"


def count_parameters(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())
