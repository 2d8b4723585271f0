"""Broken checkpoint files get one line naming the file, the field and what was expected."""

import json
import re
import shutil

import pytest

from skillgym.cli import main
from skillgym.policies.checkpoint import pretrained_path

ENV = "skillgym/Arm7-Reach-v0"


def edit_metadata(change):
    """Damage metadata.json with `change(raw)`, which edits it in place or returns a new one."""

    def edit(folder):
        path = folder / "metadata.json"
        raw = json.loads(path.read_text())
        result = change(raw)
        path.write_text(json.dumps(result if isinstance(result, list) else raw))

    return edit


def truncate(folder):
    path = folder / "metadata.json"
    path.write_text(path.read_text()[:200])


def garbage_weights(folder):
    (folder / "weights.pt").write_bytes(b"\x80\x04not a checkpoint at all")


BROKEN = {
    "truncated metadata": (truncate, r"metadata\.json: not valid JSON .*truncated"),
    "missing key": (edit_metadata(lambda m: m.pop("obs_size")), r"obs_size is missing"),
    "extra key": (edit_metadata(lambda m: m.update(colour="red")), r"unknown field colour"),
    "list, not object": (edit_metadata(lambda m: [m]), r"expected a JSON object, not a list"),
    "unknown activation": (
        edit_metadata(lambda m: m.update(activation="swish")),
        r"activation should be one of elu, tanh, relu, not 'swish'",
    ),
    "wrong type": (
        edit_metadata(lambda m: m.update(net_arch="256,128")),
        r"net_arch should be a list of positive layer widths",
    ),
    "changed obs_size": (
        edit_metadata(lambda m: m.update(obs_size=m["obs_size"] + 1)),
        r"weights\.pt: its tensors do not fit the network metadata\.json describes",
    ),
    "garbage weights": (garbage_weights, r"weights\.pt: not a skillgym weights file"),
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_a_broken_checkpoint_gets_a_one_line_error_naming_file_and_field(broken, tmp_path, capsys):
    damage, message = BROKEN[broken]
    folder = tmp_path / "checkpoint"
    shutil.copytree(pretrained_path(ENV), folder)
    damage(folder)
    assert main(["eval", ENV, "--checkpoint", str(folder), "--episodes", "1"]) == 1
    err = capsys.readouterr().err
    assert str(folder) in err
    assert re.search(message, err), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "weights_only=False" not in err
