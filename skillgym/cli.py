"""The `skillgym` command: list envs, run demos, measure speed, benchmark and rank policies."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

import skillgym
from skillgym.core.randomization import PRESETS
from skillgym.core.task import TaskConfig
from skillgym.deploy import sim2sim
from skillgym.envs.registry import task_config
from skillgym.envs.render import write_video
from skillgym.envs.vector import SkillVectorEnv, finished_episodes
from skillgym.evaluation import progress_bar
from skillgym.policies.scripted import Policy

DEMO_ENVS = ("skillgym/Arm7-Reach-v0", "skillgym/Tall19-Squat-v0")


def cmd_list(args: argparse.Namespace) -> int:
    rows = [("env id", "robot", "obs", "act", "episode", "success rule")]
    for env_id, (robot, _) in skillgym.registered().items():
        env: SkillVectorEnv = gym.make_vec(
            env_id, num_envs=1, vectorization_mode="vector_entry_point"
        )
        task = env.task
        rows.append(
            (
                env_id,
                robot,
                str(env.single_observation_space.shape[0]),
                str(env.single_action_space.shape[0]),
                f"{task.config.episode_seconds:g} s",
                task.success_rule,
            )
        )
        env.close()
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


def default_policy_spec(env_id: str) -> str:
    """The best policy skillgym has for an env: its shipped checkpoint, else a scripted
    controller, else holding the default pose (the `scripted` spec's fallback)."""
    from skillgym.policies.checkpoint import pretrained_path

    return "pretrained" if pretrained_path(env_id).exists() else "scripted"


def run_demo(
    env_id: str,
    episodes: int,
    out: Path,
    seed: int,
    spec: str | None = None,
    frame_every: int = 2,
    video_size: tuple[int, int] = (640, 480),
    config: TaskConfig | None = None,
) -> dict:
    """Drive env 0 of `env_id` with the policy `spec` names (a `--policy` spec of `bench`;
    default: `default_policy_spec`), record it, summarize.

    Software rendering costs more than simulating, so the video keeps every `frame_every`-th
    control step. `config` changes the task's settings from the registered env's."""
    from skillgym.benchmarks.policy_spec import PolicyContext, make_policy

    width, height = video_size
    env: SkillVectorEnv = gym.make_vec(
        env_id,
        num_envs=1,
        vectorization_mode="vector_entry_point",
        render_mode="rgb_array",
        width=width,
        height=height,
        config=config,
    )
    loaded = make_policy(spec or default_policy_spec(env_id), PolicyContext(env, seed))
    policy = loaded.policy
    obs, _ = env.reset(seed=seed)
    frames, finished = [env.render()], []
    steps = episodes * env.task.episode_steps
    for step in progress_bar(iterable=range(steps), desc=env_id, unit="step", leave=False):
        obs, _, terminated, truncated, info = env.step(policy(obs))
        if step % frame_every == 0:
            frames.append(env.render())
        records, ended = finished_episodes(info, 1)
        if ended[0]:
            finished.append({k: v[0] for k, v in records.items()})
    env.close()
    video = write_video(
        out / f"{env_id.split('/')[-1]}.mp4", frames, fps=1.0 / (env.dt * frame_every)
    )
    metric = env.task.metric_names[0]
    return {
        "env_id": env_id,
        "policy": loaded.description,
        "episodes": len(finished),
        "success_rate": float(np.mean([ep["success"] for ep in finished])) if finished else 0.0,
        metric: float(np.mean([ep[metric] for ep in finished])) if finished else float("nan"),
        "video": str(video),
    }


def cmd_demo(args: argparse.Namespace) -> int:
    env_ids = [args.env_id] if args.env_id else list(DEMO_ENVS)
    for env_id in env_ids:
        summary = run_demo(
            env_id,
            args.episodes,
            Path(args.out),
            args.seed,
            spec=args.policy,
            video_size=args.video_size,
        )
        metric = next(k for k in summary if k.endswith("_error"))
        print(
            f"{summary['env_id']}: {summary['policy']}, {summary['episodes']} episodes, "
            f"success {summary['success_rate']:.0%}, mean {metric} {summary[metric]:.3f}, "
            f"video {summary['video']}"
        )
    return 0


def cmd_speed(args: argparse.Namespace) -> int:
    from skillgym.reports.speed import (
        format_table,
        measure_env,
        measure_gymnasium_humanoid,
        measure_mjx,
    )

    env_ids = args.env_id or [e for e in skillgym.registered() if e.endswith("-Walk-v0")]
    if args.training:
        from skillgym.reports.speed import measure_training

        print("| task | controller | training env steps/s | x flat |\n|---|---|---:|---:|")
        for env_id in env_ids:
            rates = measure_training(env_id, tuple(args.training), args.num_envs, args.threads)
            for controller, rate in rates.items():
                ratio = rates["flat"] / rate if "flat" in rates else float("nan")
                print(f"| {env_id} | {controller} | {rate:,.0f} | {ratio:.2f} |")
        return 0
    if args.backend == "mjx":
        results = []
        for env_id in progress_bar(iterable=env_ids, desc="speed", unit="env"):
            result, compile_seconds = measure_mjx(env_id, args.num_envs, args.impl, args.steps)
            results.append(result)
            print(f"{env_id}: compiled reset and step in {compile_seconds:.1f} s")
        print(format_table(results))
        return 0
    results = [
        measure_env(e, args.num_envs, args.threads, args.steps, args.repeats)
        for e in progress_bar(iterable=env_ids, desc="speed", unit="env")
    ]
    if not args.no_peer:
        results.append(measure_gymnasium_humanoid(args.num_envs, args.steps))
    print(format_table(results))
    return 0


def cmd_imitate(args: argparse.Namespace) -> int:
    from skillgym.training.imitate import ImitateConfig, imitate

    if args.env_id not in skillgym.registered():
        raise ValueError(f"unknown env id {args.env_id!r}; `skillgym list` shows them")
    out = Path(args.out or Path("runs") / args.env_id.split("/")[-1] / f"dagger{args.seed}")
    given = {
        name: getattr(args, name)
        for name in ("iterations", "num_envs", "num_threads", "seed")
        if getattr(args, name) is not None
    }
    latest = imitate(ImitateConfig(args.env_id, out, **given), resume=args.resume)
    print(f"{args.env_id}: checkpoints in {latest.parent}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from skillgym.training.ppo import run_config, train

    if args.env_id not in skillgym.registered():
        raise ValueError(f"unknown env id {args.env_id!r}; `skillgym list` shows them")
    seed = 0 if args.seed is None else args.seed
    out = Path(args.out or Path("runs") / args.env_id.split("/")[-1] / f"seed{seed}")
    given = {
        name: getattr(args, name)
        for name in (
            "seed",
            "total_steps",
            "num_envs",
            "eval_every",
            "eval_episodes",
            "num_threads",
            "rollout_steps",
            "init_from",
            "learning_rate",
            "kl_target",
            "log_std_init",
            "critic_warmup",
            "promote_at",
            "widen_below",
            "controller",
            "randomize",
            "randomize_ramp",
        )
        if getattr(args, name) is not None
    }
    if args.absolute_goals:
        given["residual"] = False
    if args.skill:
        given["skills"] = dict(args.skill)
    if args.no_privileged:
        given["privileged"] = False
    if args.per_env_levels:
        given["per_env_levels"] = True
    if args.task_config:
        given["task_config"] = dict(args.task_config)
    config = run_config(args.env_id, out, resume=args.resume, **given)
    if args.backend == "mjx":
        from skillgym.training.ppo_mjx import train_mjx

        meta = train_mjx(config, resume=args.resume, impl=args.impl)
    else:
        meta = train(config, resume=args.resume)
    print(
        f"{args.env_id}: {meta.env_steps:,} env steps in {meta.wall_seconds / 60:.1f} min, "
        f"success {meta.evaluation['success_rate']:.0%} on {meta.evaluation['episodes']} "
        f"privilege-free episodes; checkpoints in {out}"
    )
    return 0


def cmd_ablation(args: argparse.Namespace) -> int:
    from skillgym.reports.ablation import report

    figure, table = report(args.runs, args.out, args.name)
    print(table.read_text(), end="")
    print(f"plot: {figure}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import json

    from skillgym.benchmarks.policy_spec import PolicyContext, make_policy
    from skillgym.evaluation import evaluate
    from skillgym.policies.checkpoint import pretrained_path

    if args.env_id not in skillgym.registered():
        raise ValueError(f"unknown env id {args.env_id!r}; `skillgym list` shows them")
    path = Path(args.checkpoint) if args.checkpoint else pretrained_path(args.env_id)
    if not path.exists():
        raise ValueError(f"no checkpoint at {path} (pass --checkpoint PATH)")
    spec = f"checkpoint:{path}"

    def policy(env: gym.vector.VectorEnv) -> Policy:
        return make_policy(spec, PolicyContext(env, args.seed)).policy

    settings = dict(args.task_config or [])
    config = task_config(args.env_id, settings) if settings else None
    randomize = {"randomize": args.randomize} if args.randomize else {}
    result = evaluate(
        args.env_id, policy, args.episodes, args.seed, progress=True, config=config, **randomize
    )
    result.update(checkpoint=str(path), **randomize)
    if settings:
        result["task_config"] = settings
    text = json.dumps(result, indent=2)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
    print(text)
    if args.video:
        video = Path(args.video)
        summary = run_demo(
            args.env_id, 3, video.parent, args.seed, spec, video_size=args.video_size, config=config
        )
        Path(summary["video"]).replace(video)
        print(f"video: {video}")
        if args.frames:
            from skillgym.reports.frames import frame_strip

            print(f"frames: {frame_strip(video, args.frames)}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from skillgym.benchmarks import bench, format_table, load_suite

    results = bench(
        load_suite(args.suite),
        args.out,
        policy=args.policy,
        submission=args.submission,
        backend=args.backend,
        episodes=args.episodes,
        jobs=args.jobs,
        video=not args.no_video,
        video_size=args.video_size,
    )
    print(format_table(results))
    print(f"results: {Path(args.out) / 'results.json'}")
    return 0


def cmd_submit_check(args: argparse.Namespace) -> int:
    from skillgym.benchmarks import check_submission

    failures = check_submission(args.directory)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    if failures:
        return 1
    print(f"{args.directory}: valid submission")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from skillgym.benchmarks import write_leaderboard

    markdown, page = write_leaderboard(args.results, args.out)
    print(markdown.read_text())
    print(f"page: {page}")
    return 0


def cmd_scores(args: argparse.Namespace) -> int:
    from skillgym.reports import scores

    for env in scores.shipped_env_ids() if args.rescore else []:
        result = scores.rescore(env, args.episodes, args.seed)
        verdict = "meets" if result["success_rate"] >= scores.bar(env) else "is below"
        print(f"{env}: {result['success_rate']:.2f}, {verdict} its bar {scores.bar(env):.2f}")
    if args.readme:
        changed = scores.write_scores(args.readme)
        print(f"{args.readme}: {'updated' if changed else 'already up to date'}")
    else:
        print(scores.scores_table())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from skillgym.deploy.export import export_policy

    out = export_policy(args.source, args.out)
    print(f"{out}: policy.onnx, deploy.json, robot.xml, scene.xml, README.md, sim2sim.py")
    return 0


def cmd_sim2sim(args: argparse.Namespace) -> int:
    return sim2sim.run_command(args)


def skill_checkpoint(text: str) -> tuple[str, str]:
    """An argparse type for SKILL=CHECKPOINT."""
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected SKILL=CHECKPOINT, got {text!r}")
    return name, path


def count(text: str) -> int:
    """An argparse type for counts (episodes, steps, envs, threads): a positive integer."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def video_size(text: str) -> tuple[int, int]:
    """An argparse type for a video's WIDTHxHEIGHT in pixels, e.g. 640x480."""
    width, sep, height = text.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit() and int(width) and int(height)):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x480, got {text!r}")
    return int(width), int(height)


def setting(text: str) -> tuple[str, int | float | bool]:
    """An argparse type for NAME=VALUE, the value a number or true/false."""
    name, sep, value = text.partition("=")
    words = {"true": True, "false": False}
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    if value.lower() in words:
        return name, words[value.lower()]
    for kind in (int, float):
        try:
            return name, kind(value)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"{name}: expected a number or true/false, got {value!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skillgym", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="registered envs with their sizes and success rules").set_defaults(
        func=cmd_list
    )

    demo = sub.add_parser("demo", help="run an env with a policy and record an MP4")
    demo.add_argument("env_id", nargs="?", help=f"default: {', '.join(DEMO_ENVS)}")
    demo.add_argument(
        "--policy",
        help="as bench's --policy, e.g. checkpoint:runs/walk/best (default: the env's shipped "
        "checkpoint, else its scripted controller)",
    )
    demo.add_argument("--episodes", type=count, default=2)
    demo.add_argument("--out", default="skillgym-demo", help="folder for the videos")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--video-size", type=video_size, default=(640, 480), help="WIDTHxHEIGHT")
    demo.set_defaults(func=cmd_demo)

    train = sub.add_parser("train", help="train a skill with PPO (checkpoints, TensorBoard)")
    train.add_argument("env_id")
    train.add_argument("--out", help="run folder (default: runs/<env>/seed<seed>)")
    train.add_argument("--seed", type=int, help="default 0, or a resumed run's own")
    train.add_argument("--total-steps", type=count)
    train.add_argument("--num-envs", type=count)
    train.add_argument("--num-threads", type=count)
    train.add_argument("--eval-every", type=count, help="env steps between evaluations")
    train.add_argument("--eval-episodes", type=count)
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue from <out>/latest with its recorded settings; options given override them",
    )
    train.add_argument(
        "--init-from",
        metavar="CHECKPOINT",
        help="start from this checkpoint's policy (fine-tuning; a fresh optimizer), with "
        "privileges only if it trained with them, at its curriculum's levels",
    )
    train.add_argument(
        "--no-privileged", action="store_true", help="train on the plain env (the ablation)"
    )
    train.add_argument(
        "--controller",
        choices=["flat", "blend", "mcp", "switch"],
        help="flat (default): a policy of joint actions; blend, mcp or switch: a high-level "
        "controller of the robot's frozen skills on a task that composes them (per-joint "
        "weights, one weight per skill, or one skill at a time), trained on the plain env",
    )
    train.add_argument(
        "--randomize",
        nargs="?",
        const="default",
        choices=list(PRESETS),
        help="train under domain randomization (a preset; default: default); evaluation "
        "during training stays on the registered env",
    )
    train.add_argument(
        "--randomize-ramp",
        type=int,
        metavar="STEPS",
        help="grow the randomization from none to the whole preset over this many env steps "
        "from the run's start (default 0: the whole preset at once)",
    )
    train.add_argument(
        "--skill",
        action="append",
        type=skill_checkpoint,
        metavar="SKILL=CHECKPOINT",
        help="a composed controller drives this checkpoint for SKILL instead of the shipped one "
        "(repeatable), e.g. Walk=runs/walk/best",
    )
    train.add_argument(
        "--absolute-goals",
        action="store_true",
        help="a composed controller sets each skill's goal anywhere in its range instead of "
        "as a residual around the task's decomposition",
    )
    train.add_argument(
        "--per-env-levels",
        action="store_true",
        help="a curriculum level per env, up at each success and down at each failure",
    )
    train.add_argument(
        "--promote-at",
        type=float,
        metavar="RATE",
        help="privileges come off a level while more than this share of episodes succeed "
        "(default 0.7)",
    )
    train.add_argument(
        "--widen-below",
        type=float,
        metavar="ERROR",
        help="narrowed commands widen a level while the mean tracking error stays below this "
        "(default 0.25 m/s, Walk's success bound)",
    )
    train.add_argument(
        "--task-config",
        type=setting,
        action="append",
        metavar="NAME=VALUE",
        help="a number setting of the task for the training env only (repeatable), e.g. "
        "target_radius=0.3, or a reward term's weight, e.g. reward.torque=-0.5; evaluation always "
        "runs the registered env",
    )
    train.add_argument("--backend", choices=["cpu", "mjx"], default="cpu")
    train.add_argument("--impl", choices=["jax", "warp"], default="jax", help="MJX implementation")
    train.add_argument("--rollout-steps", type=count, help="per env, per PPO update")
    train.add_argument("--learning-rate", type=float, help="Adam step size (default 3e-4)")
    train.add_argument(
        "--kl-target",
        type=float,
        metavar="KL",
        help="adapt the step size after each update to keep its approximate KL near KL (down "
        "1.5 x above 2 x KL, up 1.5 x below KL / 2; default: a fixed step size), e.g. 0.01",
    )
    train.add_argument(
        "--critic-warmup",
        type=int,
        metavar="STEPS",
        help="env steps at a fine-tune's or a composed controller's start that train the "
        "critic alone before the policy moves",
    )
    train.add_argument(
        "--log-std-init",
        type=float,
        help="exploration noise at the start, as log std (default -0.5; with --init-from, "
        "the checkpoint's own)",
    )
    train.set_defaults(func=cmd_train)

    imitate = sub.add_parser(
        "imitate", help="teach a policy network the env's scripted controller (DAgger)"
    )
    imitate.add_argument("env_id")
    imitate.add_argument("--out", help="run folder (default: runs/<env>/dagger<seed>)")
    imitate.add_argument("--iterations", type=count, help="policy-driven rounds (default 20)")
    imitate.add_argument("--num-envs", type=count)
    imitate.add_argument("--num-threads", type=count)
    imitate.add_argument("--seed", type=int, default=0)
    imitate.add_argument(
        "--resume", action="store_true", help="continue the run in --out with its labels"
    )
    imitate.set_defaults(func=cmd_imitate)

    ablation = sub.add_parser(
        "ablation",
        help="compare runs trained with and without privileges, or with different controllers "
        "(plot and table)",
    )
    ablation.add_argument("runs", nargs="+", help="run folders written by `skillgym train`")
    ablation.add_argument("--out", required=True, help="folder for the plot and the table")
    ablation.add_argument(
        "--name", default="privileges", help="the files' name: NAME.png and NAME.md"
    )
    ablation.set_defaults(func=cmd_ablation)

    evaluate = sub.add_parser("eval", help="score a checkpoint on the privilege-free env")
    evaluate.add_argument("env_id")
    evaluate.add_argument("--checkpoint", help="default: the shipped checkpoint")
    evaluate.add_argument("--episodes", type=count, default=100)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--json", help="write the result here")
    evaluate.add_argument("--video", help="also record three episodes to this MP4")
    evaluate.add_argument("--video-size", type=video_size, default=(640, 480), help="WIDTHxHEIGHT")
    evaluate.add_argument(
        "--frames", help="with --video: also a PNG strip of six of its frames, for the docs"
    )
    evaluate.add_argument(
        "--randomize",
        nargs="?",
        const="default",
        choices=list(PRESETS),
        help="evaluate under domain randomization (a preset; default: default)",
    )
    evaluate.add_argument(
        "--task-config",
        type=setting,
        action="append",
        metavar="NAME=VALUE",
        help="evaluate with a number setting of the task changed (repeatable), e.g. Walk's "
        "arm_motion=1.0 arm_motion_range=0 to hold the arms at the default pose; recorded in "
        "the JSON",
    )
    evaluate.set_defaults(func=cmd_eval)

    speed = sub.add_parser("speed", help="throughput of the batched envs against raw physics")
    speed.add_argument("env_id", nargs="*", help="default: every humanoid Walk env")
    speed.add_argument("--num-envs", type=count, default=64)
    speed.add_argument("--threads", type=count, default=2)
    speed.add_argument("--steps", type=count, default=200)
    speed.add_argument("--repeats", type=count, default=7)
    speed.add_argument("--no-peer", action="store_true", help="skip Gymnasium's Humanoid-v5")
    speed.add_argument(
        "--training",
        nargs="+",
        choices=["flat", "blend", "mcp", "switch"],
        help="measure PPO training throughput of these controllers instead (CPU)",
    )
    speed.add_argument("--backend", choices=["cpu", "mjx"], default="cpu")
    speed.add_argument("--impl", choices=["jax", "warp"], default="jax", help="MJX implementation")
    speed.set_defaults(func=cmd_speed)

    bench = sub.add_parser("bench", help="score a policy or a submission on a benchmark suite")
    bench.add_argument("--suite", default="skills", help="a built-in suite's name or a .json file")
    who = bench.add_mutually_exclusive_group()
    who.add_argument(
        "--policy",
        default="zero",
        help="zero, random, scripted, switcher, pretrained, checkpoint:PATH or onnx:PATH "
        "(default: zero)",
    )
    who.add_argument("--submission", help="a submission folder (see `skillgym submit check`)")
    bench.add_argument("--backend", choices=["cpu", "mjx"], default="cpu")
    bench.add_argument("--episodes", type=count, help="episodes per task instead of the suite's")
    bench.add_argument("--jobs", type=count, default=1, help="tasks scored at once, in processes")
    bench.add_argument("--no-video", action="store_true", help="skip the MP4 per task")
    bench.add_argument("--video-size", type=video_size, default=(640, 480), help="WIDTHxHEIGHT")
    bench.add_argument("--out", required=True, help="folder for results.json and the videos")
    bench.set_defaults(func=cmd_bench)

    submit = sub.add_parser("submit", help="work with submissions (ONNX policies as data)")
    submit_sub = submit.add_subparsers(dest="submit_command", required=True)
    check = submit_sub.add_parser("check", help="validate a submission folder")
    check.add_argument("directory")
    check.set_defaults(func=cmd_submit_check)

    table = sub.add_parser(
        "scores", help="the shipped checkpoints' scores table, from their own records"
    )
    table.add_argument(
        "--rescore", action="store_true", help="evaluate every shipped checkpoint and record it"
    )
    table.add_argument("--episodes", type=count, default=100)
    table.add_argument("--seed", type=int, default=0)
    table.add_argument("--readme", help="write the table between this file's scores markers")
    table.set_defaults(func=cmd_scores)

    export = sub.add_parser(
        "export", help="a policy with what a robot's control loop needs (ONNX, deploy.json, MJCF)"
    )
    export.add_argument("source", help="a checkpoint folder, or an env id for its shipped one")
    export.add_argument("--out", required=True, help="the export folder")
    export.set_defaults(func=cmd_export)

    loop = sub.add_parser(
        "sim2sim", help="run an export in a plain MuJoCo loop that reads only its folder"
    )
    sim2sim.add_arguments(loop)
    loop.set_defaults(func=cmd_sim2sim)

    board = sub.add_parser("leaderboard", help="rank results files in Markdown and HTML")
    board.add_argument("results", nargs="+", help="results.json files or their folders")
    board.add_argument("--out", required=True, help="folder for leaderboard.md and index.html")
    board.set_defaults(func=cmd_leaderboard)
    return parser


# The extra of pyproject.toml that brings each optional package a command may import.
EXTRA_OF_PACKAGE = {
    "torch": "train",
    "stable_baselines3": "train",
    "tensorboard": "train",
    "matplotlib": "train",
    "rich": "train",
    "jax": "mjx",
    "jaxlib": "mjx",
    "mujoco.mjx": "mjx",
    "onnx": "bench",
    "onnxruntime": "bench",
    "onnxscript": "bench",
}


def missing_extra(module: str | None) -> str | None:
    """The extra that installs `module` (a dotted name), or None if no extra does."""
    while module:
        if module in EXTRA_OF_PACKAGE:
            return EXTRA_OF_PACKAGE[module]
        module = module.rpartition(".")[0]
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, gym.error.Error) as error:
        print(f"skillgym {args.command}: {error}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as error:
        extra = missing_extra(error.name)
        if extra is None:
            raise
        print(
            f"skillgym {args.command}: needs the {extra!r} extra ({error.name} is not installed):"
            f" pip install 'skillgym[{extra}]'",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
