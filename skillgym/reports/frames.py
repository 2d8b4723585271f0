"""A strip of frames from a video: how a figure in the docs shows what a policy does."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def frame_strip(video: str | Path, out: str | Path, count: int = 6, start: float = 0.1) -> Path:
    """Write `count` frames of `video`, evenly spaced from `start` (a fraction of its length)
    to its end, side by side in one PNG, each labelled with its time."""
    import imageio.v3 as iio
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = iio.imread(video)
    fps = iio.immeta(video).get("fps", 25.0)
    picks = np.linspace(int(start * (len(frames) - 1)), len(frames) - 1, count).astype(int)
    fig, axes = plt.subplots(1, count, figsize=(2.6 * count, 2.2), squeeze=False)
    for ax, index in zip(axes[0], picks, strict=True):
        ax.imshow(frames[index])
        ax.set_title(f"{index / fps:.1f} s", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
