"""Reader and writer for FJSPLIB flexible job shop files (the public benchmark format).

Header: jobs, machines and an optional informative third number. Then one line per job:
the number of operations, and per operation the number k of eligible machines followed by
k pairs "machine duration". Machines are numbered from 1; files numbering from 0 (some
collections do) are recognised when a machine 0 occurs and machine m does not. The
operations of a job form a chain; the objective is the makespan.
"""

from __future__ import annotations

from pathlib import Path

from mes.scheduling.engine.problem import (
    Job,
    Objective,
    Precedence,
    Problem,
    ProblemFileError,
    Resource,
    Task,
    Term,
)


def machine_key(index: int) -> str:
    """Key of the 0-based machine index (files say index + 1)."""
    return f"M{index + 1}"


def read_fjsplib(path: str | Path) -> Problem:
    return parse_fjsplib(Path(path).read_text(), str(path))


def parse_fjsplib(text: str, source: str = "<text>") -> Problem:
    lines = [(number, line.split()) for number, line in enumerate(text.splitlines(), start=1) if line.split()]
    if not lines:
        raise ProblemFileError(source, None, "header", "the file is empty")
    header_line, header = lines[0]
    if len(header) not in (2, 3):
        raise ProblemFileError(source, header_line, "header", f"expected 'jobs machines [flexibility]', got {len(header)} fields")
    num_jobs = _integer(source, header_line, "number of jobs", header[0])
    num_machines = _integer(source, header_line, "number of machines", header[1])
    if len(header) == 3:
        try:
            float(header[2])
        except ValueError:
            raise ProblemFileError(source, header_line, "flexibility", f"{header[2]!r} is not a number") from None
    if num_jobs < 1 or num_machines < 1:
        raise ProblemFileError(source, header_line, "header", "the numbers of jobs and machines must be positive")
    job_lines = lines[1:]
    if len(job_lines) != num_jobs:
        raise ProblemFileError(source, job_lines[-1][0] if len(job_lines) > num_jobs else None, "jobs",
                               f"the header announces {num_jobs} job lines, the file has {len(job_lines)}")

    raw: list[list[list[tuple[int, int]]]] = []
    machine_numbers: set[int] = set()
    for j, (number, fields) in enumerate(job_lines):
        values = [_integer(source, number, f"field {k + 1}", v) for k, v in enumerate(fields)]
        pos = 0

        def take(what: str) -> int:
            nonlocal pos
            if pos >= len(values):
                raise ProblemFileError(source, number, what, f"job {j + 1}: the line ends early (expected {what} at field {pos + 1})")
            pos += 1
            return values[pos - 1]

        num_ops = take("number of operations")
        if num_ops < 1:
            raise ProblemFileError(source, number, "field 1", f"job {j + 1} must have at least one operation")
        ops = []
        for o in range(num_ops):
            count = take(f"number of machines of operation {o + 1}")
            if count < 1:
                raise ProblemFileError(source, number, f"field {pos}", f"job {j + 1}, operation {o + 1} has no machine")
            alternatives = []
            for _ in range(count):
                machine = take(f"machine of operation {o + 1}")
                duration = take(f"duration of operation {o + 1}")
                if duration < 0:
                    raise ProblemFileError(source, number, f"field {pos}", f"job {j + 1}, operation {o + 1}: negative duration {duration}")
                machine_numbers.add(machine)
                alternatives.append((machine, duration, number, pos - 1))
            ops.append(alternatives)
        if pos != len(values):
            raise ProblemFileError(source, number, f"field {pos + 1}", f"job {j + 1}: {len(values) - pos} unexpected value(s) after the last operation")
        raw.append(ops)

    zero_based = 0 in machine_numbers and num_machines not in machine_numbers
    low, high = (0, num_machines - 1) if zero_based else (1, num_machines)
    for ops in raw:
        for alternatives in ops:
            for machine, _, number, field in alternatives:
                if not low <= machine <= high:
                    raise ProblemFileError(source, number, f"field {field}", f"machine {machine} is outside {low}..{high}")

    shift = 0 if zero_based else 1
    machines = tuple(Resource(machine_key(m)) for m in range(num_machines))
    jobs = []
    operations = []
    precedences = []
    for j, ops in enumerate(raw):
        job_key = f"J{j + 1}"
        jobs.append(Job(job_key))
        previous = None
        for o, alternatives in enumerate(ops):
            durations: dict[str, int] = {}
            for machine, duration, number, field in alternatives:
                key = machine_key(machine - shift)
                if key in durations:
                    raise ProblemFileError(source, number, f"field {field}", f"job {j + 1}, operation {o + 1} lists machine {machine} twice")
                durations[key] = duration
            op_key = f"{job_key}.{o + 1}"
            operations.append(Task(op_key, job_key, durations))
            if previous is not None:
                precedences.append(Precedence(previous, op_key))
            previous = op_key
    return Problem(
        machines=machines,
        jobs=tuple(jobs),
        operations=tuple(operations),
        precedences=tuple(precedences),
        objective=Objective.lexicographic(Term.MAKESPAN),
    )


def write_fjsplib(problem: Problem) -> str:
    """FJSPLIB text of a problem made only of job chains (1-based machines)."""
    machine_number = {m.key: i + 1 for i, m in enumerate(problem.machines)}
    by_job: dict[str, list[Task]] = {job.key: [] for job in problem.jobs}
    for op in problem.operations:
        by_job[op.job].append(op)
    total = sum(len(op.durations) for op in problem.operations)
    flexibility = total / len(problem.operations) if problem.operations else 0
    lines = [f"{len(problem.jobs)} {len(problem.machines)} {flexibility:.2f}"]
    for job in problem.jobs:
        fields = [str(len(by_job[job.key]))]
        for op in by_job[job.key]:
            fields.append(str(len(op.durations)))
            for key, duration in op.durations.items():
                fields += [str(machine_number[key]), str(duration)]
        lines.append(" ".join(fields))
    return "\n".join(lines) + "\n"


def _integer(source: str, line: int, field: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ProblemFileError(source, line, field, f"{text!r} is not an integer") from None
