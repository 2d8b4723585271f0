"""A deterministic actor as an ONNX graph: what submissions and deployment exports hold."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch


def export_onnx(
    module: torch.nn.Module,
    obs_size: int,
    path: str | Path,
    input_name: str,
    output_name: str,
    metadata: Mapping[str, str] | None = None,
    opset: int = 20,
) -> Path:
    """Write `module` (observation batch -> action batch) as one self-contained graph with a
    dynamic batch axis, standard operators only, and `metadata` in its `metadata_props`."""
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module.eval()
    torch.onnx.export(
        module,
        (torch.zeros(2, obs_size),),
        str(path),
        input_names=[input_name],
        output_names=[output_name],
        dynamic_shapes=({0: torch.export.Dim("batch", min=1)},),
        opset_version=opset,
        dynamo=True,
        external_data=False,
        verbose=False,
    )
    if metadata:
        model = onnx.load(str(path))
        for key, value in metadata.items():
            model.metadata_props.add(key=key, value=value)
        onnx.save(model, str(path))
    return path
