"""`mes solve` through a subprocess, as benchmarks and planners run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mes.scheduling.engine.jsonformat import problem_to_dict
from tests.scheduling.test_formats import rich_problem

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mes.scheduling.solve_cli", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


def test_fjsplib_file(tmp_path):
    path = tmp_path / "tiny.fjs"
    path.write_text("2 2 1.5\n2 2 1 25 2 37 1 2 24\n1 1 1 10\n")
    done = run(str(path), "--time-limit", "2", "--workers", "1")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == {"status", "objective", "makespan", "lower_bound", "seconds", "operations"}
    assert out["status"] == "optimal"
    assert out["makespan"] == out["objective"] == 49
    assert [(o["job"], o["op"]) for o in out["operations"]] == [(0, 0), (0, 1), (1, 0)]
    assert {o["machine"] for o in out["operations"]} <= {0, 1}
    first, second = out["operations"][0], out["operations"][1]
    assert second["start"] >= first["end"]


def test_json_file_by_content(tmp_path):
    path = tmp_path / "plan"  # no extension: detected by content
    path.write_text(json.dumps(problem_to_dict(rich_problem())))
    done = run(str(path), "--time-limit", "1")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert len(out["operations"]) == 4
    pinned = next(o for o in out["operations"] if (o["job"], o["op"]) == (0, 2))
    assert (pinned["machine"], pinned["start"]) == (1, 300)


def test_full_output(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(problem_to_dict(rich_problem())))
    done = run(str(path), "--time-limit", "1", "--full")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {o["operation"] for o in out["operations"]} == {"W1/10", "W1/20", "W1/30", "W2/10"}
    assert "weighted_tardiness" in out["objective"]


def test_malformed_fjsplib_file(tmp_path):
    path = tmp_path / "bad.fjs"
    path.write_text("2 2\n1 1 1 5\n1 1 3 5\n")
    done = run(str(path))
    assert done.returncode != 0
    assert done.stdout == ""
    assert "line 3" in done.stderr and "machine 3 is outside 1..2" in done.stderr


def test_malformed_json_file(tmp_path):
    data = problem_to_dict(rich_problem())
    data["jobs"][0]["operations"][2]["pinned_start"] = "soon"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    done = run(str(path))
    assert done.returncode != 0
    assert "jobs[0].operations[2].pinned_start" in done.stderr


def test_infeasible_problem_reports_reasons(tmp_path):
    data = problem_to_dict(rich_problem())
    data["jobs"][1]["operations"][0]["durations"] = {}
    path = tmp_path / "infeasible.json"
    path.write_text(json.dumps(data))
    done = run(str(path))
    assert done.returncode == 3
    out = json.loads(done.stdout)
    assert out["status"] == "infeasible"
    assert out["reasons"][0]["code"] == "no_eligible_machine"
    assert out["reasons"][0]["keys"] == ["W2/10"]
    assert "W2/10" in done.stderr


def test_missing_file(tmp_path):
    done = run(str(tmp_path / "nope.fjs"))
    assert done.returncode != 0
    assert "nope.fjs" in done.stderr
