"""`skillgym leaderboard`: results files in, a ranked table out (Markdown and a static page).

One table per protocol: suite file (by sha256), backend, physics version and episodes per
task, since scores of different protocols are not comparable. The aggregate is recomputed from
the per-task scores (a stored aggregate is not trusted): the mean success over every task of the
suite, a task a run did not score counting as 0. Only runs that scored every task are ranked
(by aggregate success, then mean accuracy error, then name); partial runs are listed after them,
unranked. Per-task cells show the success rate, linked to the task's video, and the accuracy
error.
"""

from __future__ import annotations

import dataclasses
import html
import os
from pathlib import Path
from typing import Any

from skillgym.benchmarks.results import percent, read_results

MARKDOWN_FILE = "leaderboard.md"
HTML_FILE = "index.html"


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    results: dict[str, Any]
    folder: Path  # where the results file lies; videos are relative to it

    @property
    def success(self) -> float:
        """Mean success over every task of the suite; an unscored task counts as 0."""
        scored = sum(t["metrics"]["success_rate"] for t in self.results["tasks"])
        return scored / self.results["suite"]["tasks"]

    @property
    def complete(self) -> bool:
        return len(self.results["tasks"]) == self.results["suite"]["tasks"]

    @property
    def software(self) -> str:
        """The run's date and the versions its numbers depend on, for a table cell."""
        software = self.results["software"]
        versions = ", ".join(f"{k} {v}" for k, v in software.items() if v and k != "mujoco")
        return f"{self.results['created'][:10]}; {versions}"

    @property
    def mean_accuracy_error(self) -> float:
        errors = [t["metrics"]["accuracy_error"] for t in self.results["tasks"]]
        finite = [e for e in errors if e is not None]
        return sum(finite) / len(finite) if finite else float("inf")

    @property
    def coverage(self) -> str:
        """Tasks scored out of the suite's: a submission may cover only some of them."""
        return f"{len(self.results['tasks'])}/{self.results['suite']['tasks']}"

    def task(self, name: str) -> dict[str, Any] | None:
        return next((t for t in self.results["tasks"] if t["task"] == name), None)


@dataclasses.dataclass(frozen=True)
class Board:
    """Runs scored under one protocol: the same suite file, backend, physics version and
    episodes per task."""

    suite: str
    backend: str
    physics: str  # e.g. "mujoco 4.0.1"; MJX runs add the mujoco-mjx version
    suite_sha256: str
    episodes_override: int | None
    tasks: tuple[str, ...]  # columns, in the order the suite ran them
    entries: tuple[Entry, ...]  # ranked

    @property
    def title(self) -> str:
        episodes = f", {self.episodes_override} episodes per task" if self.episodes_override else ""
        return (
            f"{self.suite} ({self.backend}, {self.physics}{episodes}; "
            f"suite {self.suite_sha256[:8]})"
        )


def build_boards(paths: list[str | Path]) -> list[Board]:
    """Read results files and rank them, one board per protocol: runs of another suite version,
    backend, physics version or episode count are not comparable."""
    if not paths:
        raise ValueError("no results files given")
    groups: dict[tuple[str, str, str, str, int], list[Entry]] = {}
    for path in paths:
        results = read_results(path)
        folder = Path(path) if Path(path).is_dir() else Path(path).parent
        suite = results["suite"]
        key = (
            suite["name"],
            results["backend"],
            physics_version(results),
            suite["sha256"],
            suite["episodes_override"] or 0,
        )
        groups.setdefault(key, []).append(Entry(results["name"], results, folder))
    boards = []
    for (suite, backend, physics, sha256, episodes), entries in sorted(groups.items()):
        tasks = tuple(dict.fromkeys(t["task"] for e in entries for t in e.results["tasks"]))
        ranked = sorted(
            entries, key=lambda e: (not e.complete, -e.success, e.mean_accuracy_error, e.name)
        )
        boards.append(
            Board(suite, backend, physics, sha256, episodes or None, tasks, tuple(ranked))
        )
    return boards


def physics_version(results: dict[str, Any]) -> str:
    """The physics a run was scored with, from its recorded software versions: scores move
    when the physics library's version changes, so such runs are ranked apart."""
    software = results.get("software", {})
    packages = ["mujoco"] + (["mujoco-mjx"] if results["backend"] == "mjx" else [])
    return ", ".join(f"{name} {software.get(name) or 'unknown'}" for name in packages)


def write_leaderboard(paths: list[str | Path], out_dir: str | Path) -> tuple[Path, Path]:
    """Write leaderboard.md and index.html into `out_dir`; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    boards = build_boards(paths)
    markdown = out_dir / MARKDOWN_FILE
    page = out_dir / HTML_FILE
    markdown.write_text(render_markdown(boards, out_dir))
    page.write_text(render_html(boards, out_dir))
    return markdown, page


def _video_link(entry: Entry, task: dict[str, Any], out_dir: Path) -> str | None:
    if task.get("video") is None:
        return None
    return Path(os.path.relpath(entry.folder / task["video"], out_dir)).as_posix()


def render_markdown(boards: list[Board], out_dir: Path) -> str:
    lines = ["# skillgym leaderboard", ""]
    for board in boards:
        header = ["rank", "name", "success", "tasks", *board.tasks, "date; software"]
        lines += [f"## {board.title}", ""]
        lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        for rank, entry in _ranks(board):
            cells = [rank, entry.name, percent(entry.success), entry.coverage]
            for name in board.tasks:
                task = entry.task(name)
                if task is None:
                    cells.append("—")
                    continue
                text = percent(task["metrics"]["success_rate"])
                link = _video_link(entry, task, out_dir)
                cells.append(f"[{text}]({link})" if link else text)
                cells[-1] += f" · {_error(task)}"
            cells.append(entry.software)
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _ranks(board: Board) -> list[tuple[str, Entry]]:
    """Each entry with its rank: a number for complete runs, "—" for partial ones."""
    return [(str(i) if e.complete else "—", e) for i, e in enumerate(board.entries, start=1)]


def _error(task: dict[str, Any]) -> str:
    error = task["metrics"]["accuracy_error"]
    return "n/a" if error is None else f"{error:.3g}"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th:nth-child(2), td:nth-child(2) { text-align: left; }
thead { background: #f0f0f0; }
"""


def render_html(boards: list[Board], out_dir: Path) -> str:
    """A self-contained static page: no scripts, no external resources."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>skillgym leaderboard</title>',
        f"<style>{_STYLE}</style></head><body>",
        "<h1>skillgym leaderboard</h1>",
    ]
    for board in boards:
        board_id = e(
            f"{board.suite}-{board.backend}-{board.suite_sha256[:8]}-{board.episodes_override or 0}"
        )
        parts.append(f"<h2>{e(board.title)}</h2>")
        parts.append(f'<table id="{board_id}" class="leaderboard"><thead><tr>')
        header = ("rank", "name", "success", "tasks", *board.tasks, "date; software")
        parts += [f"<th>{e(h)}</th>" for h in header]
        parts.append("</tr></thead><tbody>")
        for rank, entry in _ranks(board):
            parts.append(f'<tr data-rank="{rank}"><td>{rank}</td><td>{e(entry.name)}</td>')
            parts.append(f'<td class="aggregate">{percent(entry.success)}</td>')
            parts.append(f'<td class="coverage">{entry.coverage}</td>')
            for name in board.tasks:
                task = entry.task(name)
                if task is None:
                    parts.append(f'<td data-task="{e(name)}">—</td>')
                    continue
                text = percent(task["metrics"]["success_rate"])
                link = _video_link(entry, task, out_dir)
                cell = f'<a href="{e(link)}">{text}</a>' if link else text
                parts.append(f'<td data-task="{e(name)}">{cell} · {_error(task)}</td>')
            parts.append(f'<td class="software">{e(entry.software)}</td></tr>')
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
