"""Submissions are data: exported ONNX policies score; malformed ones are named and refused."""

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from skillgym.benchmarks import (  # noqa: E402
    LAYOUT_VERSION,
    SubmissionError,
    bench,
    check_submission,
    export_submission,
    load_suite,
)
from skillgym.cli import main  # noqa: E402

ENV_ID = "skillgym/Arm7-Reach-v0"
OBS, ACT = 29, 8


def manifest(**overrides):
    fields = {"name": "probe", "robot": "arm7", "tasks": [ENV_ID], "layout_version": LAYOUT_VERSION}
    return {k: v for k, v in {**fields, **overrides}.items() if v is not None}


def linear_graph(obs=OBS, act=ACT, bias=0.0, extra_nodes=(), opsets=()):
    """observation (batch, obs) -> tanh(observation @ W + bias), built node by node."""
    weight = numpy_helper.from_array(np.full((obs, act), 0.01, np.float32), "weight")
    shift = numpy_helper.from_array(np.full(act, bias, np.float32), "shift")
    nodes = [
        helper.make_node("MatMul", ["observation", "weight"], ["mixed"]),
        helper.make_node("Add", ["mixed", "shift"], ["shifted"]),
        *extra_nodes,
        helper.make_node(
            "Tanh", [extra_nodes[-1].output[0] if extra_nodes else "shifted"], ["action"]
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "policy",
        [helper.make_tensor_value_info("observation", TensorProto.FLOAT, ["batch", obs])],
        [helper.make_tensor_value_info("action", TensorProto.FLOAT, ["batch", act])],
        [weight, shift],
    )
    opset_imports = [helper.make_opsetid("", 20), *(helper.make_opsetid(d, 1) for d in opsets)]
    return helper.make_model(graph, opset_imports=opset_imports, ir_version=10)


def write_submission(directory, model, fields):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "submission.json").write_text(json.dumps(fields))
    if model is not None:
        onnx.save(model, directory / "policy.onnx")
    return directory


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A torch MLP exported with export_submission."""
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(
        torch.nn.Linear(OBS, 16), torch.nn.Tanh(), torch.nn.Linear(16, ACT), torch.nn.Tanh()
    )
    return export_submission(
        mlp, tmp_path_factory.mktemp("sub"), name="tiny-mlp", tasks=[ENV_ID]
    ), mlp


def test_export_submission_refuses_a_policy_that_is_not_a_module_or_mapping(tmp_path):
    mlp = torch.nn.Linear(OBS, ACT)
    with pytest.raises(TypeError, match="torch.nn.Module or a mapping.*not tuple"):
        export_submission((mlp,), tmp_path, name="x", tasks=[ENV_ID])
    with pytest.raises(TypeError, match="tasks must be a list of env ids"):
        export_submission(mlp, tmp_path, name="x", tasks=ENV_ID)
    assert list(tmp_path.iterdir()) == []


def test_exported_torch_policy_is_a_valid_submission_with_the_same_actions(exported):
    submission, mlp = exported
    assert check_submission(submission.directory) == []
    manifest_file = json.loads((submission.directory / "submission.json").read_text())
    assert manifest_file == manifest(name="tiny-mlp")
    from skillgym.benchmarks.policy_spec import OnnxPolicy

    obs = np.random.default_rng(0).normal(size=(5, OBS)).astype(np.float32)
    with torch.no_grad():
        expected = mlp(torch.from_numpy(obs)).numpy()
    np.testing.assert_allclose(OnnxPolicy(submission.policy_path(ENV_ID))(obs), expected, atol=1e-5)


def test_bench_scores_a_submission_on_the_suite_tasks_it_lists(exported, tmp_path, capsys):
    submission, _ = exported
    suite = tmp_path / "suite.json"
    tasks = [
        {"env_id": ENV_ID, "robot": "arm7", "episodes": 2, "seed": 0, "episode_seconds": 0.2},
        {"env_id": "skillgym/Tall19-Squat-v0", "robot": "tall19", "episodes": 2, "seed": 0},
    ]
    suite.write_text(json.dumps({"schema_version": 1, "name": "mixed", "tasks": tasks}))
    argv = ["bench", "--suite", str(suite), "--submission", str(submission.directory)]
    assert main([*argv, "--no-video", "--out", str(tmp_path / "run")]) == 0
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["name"] == "tiny-mlp"
    assert [t["task"] for t in results["tasks"]] == ["Arm7-Reach-v0"]
    assert results["tasks"][0]["policy"] == "onnx (policy.onnx)"
    assert list(results["policy"]["graphs"]) == ["policy.onnx"]


def test_a_per_task_graph_takes_precedence_over_the_suite_graph(tmp_path):
    directory = write_submission(tmp_path, linear_graph(obs=OBS + 1), manifest())
    (directory / "policies").mkdir()
    onnx.save(linear_graph(), directory / "policies" / "Arm7-Reach-v0.onnx")
    assert check_submission(directory) == []


MALFORMED = {
    "shape-mismatch": (lambda: linear_graph(obs=OBS + 1), manifest(), "[batch, 29]"),
    "non-finite-output": (lambda: linear_graph(bias=float("nan")), manifest(), "NaN"),
    "custom-operator": (
        lambda: linear_graph(
            extra_nodes=[helper.make_node("Run", ["shifted"], ["ran"], domain="com.example")],
            opsets=["com.example"],
        ),
        manifest(),
        "com.example::Run",
    ),
    "missing-field": (linear_graph, manifest(robot=None), "'robot'"),
    "layout-version": (
        linear_graph,
        manifest(layout_version=LAYOUT_VERSION - 1),
        f"layout_version {LAYOUT_VERSION - 1}",
    ),
    "unknown-task": (linear_graph, manifest(tasks=["skillgym/Arm7-Fly-v0"]), "Arm7-Fly"),
    "robot-mismatch": (
        linear_graph,
        manifest(tasks=["skillgym/Tall19-Reach-v0"]),
        "runs robot 'tall19'",
    ),
    "missing-policy": (lambda: None, manifest(), "policies/Arm7-Reach-v0.onnx"),
}


@pytest.mark.parametrize("code", MALFORMED)
def test_submit_check_rejects_a_malformed_submission_naming_why(code, tmp_path, capsys):
    make_model, fields, detail = MALFORMED[code]
    directory = write_submission(tmp_path / code, make_model(), fields)
    assert main(["submit", "check", str(directory)]) == 1
    err = capsys.readouterr().err
    assert f"FAIL {code}:" in err and detail in err


def test_an_oversized_graph_is_rejected_before_it_is_parsed(tmp_path):
    directory = write_submission(tmp_path, None, manifest())
    (directory / "policy.onnx").write_bytes(b"\0" * 2048)  # not even ONNX: never read
    failures = check_submission(directory, max_policy_bytes=1024)
    assert [f.code for f in failures] == ["oversized"]
    assert "2,048 bytes; the limit is 1,024" in failures[0].message


@pytest.mark.parametrize("location", ["weights.bin", "../../secrets.bin"])
def test_weights_kept_outside_the_graph_file_are_rejected(location, tmp_path):
    model = linear_graph()
    weight = model.graph.initializer[0]
    weight.data_location = TensorProto.EXTERNAL
    weight.ClearField("raw_data")
    entry = weight.external_data.add()
    entry.key, entry.value = "location", location
    directory = write_submission(tmp_path / "sub", model, manifest())
    (directory / "weights.bin").write_bytes(np.zeros((OBS, ACT), np.float32).tobytes())
    failures = check_submission(directory)
    # onnx.checker refuses a path out of the folder; any other external file is refused here.
    assert [f.code for f in failures] == [
        "external-data" if location == "weights.bin" else "invalid-onnx"
    ]


def test_bench_refuses_an_invalid_submission_with_its_failures(tmp_path):
    directory = write_submission(tmp_path / "bad", linear_graph(obs=3), manifest())
    with pytest.raises(SubmissionError, match="shape-mismatch"):
        bench(load_suite("skills"), tmp_path / "run", submission=directory, video=False)


def test_an_onnx_policy_of_other_sizes_than_the_task_is_a_clear_error(tmp_path):
    onnx.save(linear_graph(obs=OBS + 1), tmp_path / "wide.onnx")
    suite = tmp_path / "suite.json"
    task = {"env_id": ENV_ID, "robot": "arm7", "episodes": 2, "seed": 0, "episode_seconds": 0.2}
    suite.write_text(json.dumps({"schema_version": 1, "name": "one", "tasks": [task]}))
    with pytest.raises(ValueError, match=f"maps {OBS + 1} observations to {ACT} actions"):
        bench(load_suite(suite), tmp_path / "run", policy=f"onnx:{tmp_path / 'wide.onnx'}")
