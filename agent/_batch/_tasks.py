"""Batch task files: JSONL or YAML, read as untrusted input into typed `BatchTask`s.

A task is an object. Its keys are the `screenloop run` options by field or flag
name (``task``, ``url``, ``desktop``, ``launch``, ``model``, ``provider``,
``display``, ``max_steps`` / ``max-steps``, ``max_time``, ``safety``,
``allow_domain``...; an option added to `RunOptions` later is accepted too),
plus what only a batch has:

    id        a name for the task (letters, digits, ``.``, ``_``, ``-``; default
              from its position and text); its attempts' directories use it
    repeat    attempts of this task (default ``--repeat``)
    script    a scripted model (agent/testing script turns, inline or a JSON file
              next to the task file): a fresh `ScriptedResponsesServer` per attempt
    check     the success check, every given part must hold:
              ``answer`` (regex searched in the final answer), ``url`` (regex searched
              in the final URL), ``question`` (an `agent.check` yes/no question about
              the final screen), ``command`` (a program, exit status 0 = passed),
              ``timeout`` (seconds for the command)
    agent     more `Agent` keyword arguments (JSON values), for options the command
              line does not have

``url: "demo:/PATH"`` starts a fresh bundled demo shop (agent/demo) for each
attempt, signed in unless PATH is ``/signin``.

A path-valued option (one `RunOptions` may gain, such as a browser profile or a
saved login) is relative to the task file and must stay inside its directory.
Some keys let a task file run programs or pick where the API key goes:
``launch``, ``check.command``, ``base_url``, a ``script`` path outside the task
file's directory. They need ``--trust-task-file``; the keys a task file may
never set (``api_key``, ``send_env_key``, ``record``...) are refused.

Files are bounded (`MAX_FILE_BYTES`, `MAX_TASKS`); YAML is read with the safe
loader and without aliases. Every problem is reported with its line, all at
once, as one `TaskFileError`.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import shlex
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from agent._errors import TaskFileError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_TASKS",
    "BatchTask",
    "SuccessCheck",
    "load_tasks",
    "parse_tasks",
]

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_TASKS = 10_000
MAX_REPEAT = 1000
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_BATCH_KEYS = frozenset({"id", "task", "repeat", "script", "check", "agent"})
_CHECK_KEYS = frozenset({"answer", "url", "question", "command", "timeout"})

# RunOptions fields a task file may never set: the key and where it goes, how the
# command prints and records, and what only the person at the terminal decides.
_REFUSED = frozenset(
    {
        "api_key",
        "send_env_key",
        "allow_private_network",
        "json_output",
        "verbose",
        "record",
        "overwrite",
        "runs_root",
        "secrets",
        "yes",
        "host_desktop",
        "x_display",
        "headed",
        "downloads",
        "upload_dir",
        "watch",
    }
)
# RunOptions fields a task file may set only with --trust-task-file.
_TRUSTED_ONLY = frozenset({"launch", "base_url"})

# Agent arguments the batch owns (or that are not JSON): never from a task file.
_AGENT_REFUSED = frozenset(
    {
        "self",
        "computer",
        "client",
        "api_key",
        "base_url",
        "provider",
        "hooks",
        "ask_callback",
        "confirm",
        "tools",
        "run_dir",
        "runs_root",
        "record",
        "close_computer",
        "run_info",
        "secrets",
        "safety",
        "model",
        "watch",
    }
)


@dataclass(frozen=True)
class SuccessCheck:
    """What decides that an attempt passed, besides the run completing."""

    answer: str | None = None
    url: str | None = None
    question: str | None = None
    command: tuple[str, ...] | None = None
    timeout_s: float = 60.0

    def to_json(self) -> dict[str, Any]:
        """The check as summary.json shows it."""
        return {
            "answer": self.answer,
            "url": self.url,
            "question": self.question,
            "command": list(self.command) if self.command is not None else None,
        }


@dataclass(frozen=True)
class BatchTask:
    """One task of a task file, checked."""

    id: str
    index: int
    """Its position in the file (0-based): the shard split and the summary's order."""
    line: int
    task: str
    options: Mapping[str, Any] = field(default_factory=dict)
    """`RunOptions` fields set by this task (``url`` without a ``demo:`` prefix)."""
    demo_path: str | None = None
    script: tuple[Any, ...] | None = None
    check: SuccessCheck | None = None
    agent: Mapping[str, Any] = field(default_factory=dict)
    repeat: int | None = None


# -- reading the file --------------------------------------------------------------------


def load_tasks(path: Path, *, trusted: bool = False) -> list[BatchTask]:
    """The tasks of the file at `path` (``.jsonl``/``.ndjson`` or ``.yaml``/``.yml``)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TaskFileError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise TaskFileError(f"{path}: cannot read the task file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TaskFileError(f"{path}: not UTF-8 (byte {exc.start})") from None
    return parse_tasks(text, name=str(path), base_dir=path.parent, trusted=trusted)


def parse_tasks(
    text: str, *, name: str, base_dir: Path, trusted: bool = False, yaml_format: bool | None = None
) -> list[BatchTask]:
    """The tasks in `text`; JSONL unless `name` ends in .yaml/.yml (or `yaml_format`)."""
    is_yaml = yaml_format if yaml_format is not None else name.endswith((".yaml", ".yml"))
    items = _yaml_items(text, name) if is_yaml else _jsonl_items(text, name)
    if not items:
        raise TaskFileError(f"{name}: no tasks")
    if len(items) > MAX_TASKS:
        raise TaskFileError(f"{name}: {len(items)} tasks, more than {MAX_TASKS}")
    reader = _Reader(name, base_dir, trusted)
    tasks = [
        reader.task(index, line, data, lines) for index, (line, data, lines) in enumerate(items)
    ]
    seen: dict[str, int] = {}
    for task in tasks:
        if task.id in seen:
            reader.error(task.line, f"id {task.id!r} is already used on line {seen[task.id]}")
        seen.setdefault(task.id, task.line)
    if reader.errors:
        shown = reader.errors[:20]
        more = f"\n... and {len(reader.errors) - 20} more" if len(reader.errors) > 20 else ""
        raise TaskFileError("\n".join(shown) + more, errors=reader.errors)
    return tasks


_Item = tuple[int, Any, dict[str, int]]  # line, data, line of each key


def _jsonl_items(text: str, name: str) -> list[_Item]:
    items: list[_Item] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError) as exc:
            raise TaskFileError(f"{name}:{number}: not a JSON object: {exc}"[:300]) from None
        items.append((number, data, {}))
    return items


def _yaml_items(text: str, name: str) -> list[_Item]:
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                line = mark.line + 1 if mark is not None else 0
                raise TaskFileError(f"{name}:{line}: YAML aliases (*name) are not allowed")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise TaskFileError(f"{name}{where}: not valid YAML: {problem}"[:300]) from None
    except RecursionError:
        raise TaskFileError(f"{name}: YAML nested too deeply") from None
    defaults: dict[str, Any] = {}
    seq_node = root
    if isinstance(data, dict):
        unknown = set(data) - {"tasks", "defaults"}
        if unknown or "tasks" not in data:
            raise TaskFileError(
                f"{name}:1: a YAML task file is a list of tasks, or a mapping with `tasks:` "
                f"(and optional `defaults:`); found keys {sorted(map(str, data))}"
            )
        defaults_raw = data.get("defaults") or {}
        if not isinstance(defaults_raw, dict):
            raise TaskFileError(f"{name}: `defaults:` must be a mapping")
        defaults = defaults_raw
        assert isinstance(root, yaml.MappingNode)
        seq_node = next(v for k, v in root.value if k.value == "tasks")
        data = data["tasks"]
    if data is None:
        return []
    if not isinstance(data, list) or not isinstance(seq_node, yaml.SequenceNode):
        raise TaskFileError(f"{name}: the tasks must be a YAML list")
    items: list[_Item] = []
    for node, value in zip(seq_node.value, data, strict=True):
        key_lines: dict[str, int] = {}
        if isinstance(node, yaml.MappingNode):
            key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
        if isinstance(value, dict):
            value = {**defaults, **value}
        items.append((node.start_mark.line + 1, value, key_lines))
    return items


# -- checking one task ---------------------------------------------------------------


def _run_fields() -> dict[str, tuple[str, Any]]:
    """Every name a task may use for a RunOptions field -> (field name, plain type)."""
    from agent._cli._run import RunOptions

    hints = get_type_hints(RunOptions, include_extras=True)
    names: dict[str, tuple[str, Any]] = {}
    for f in dataclasses.fields(RunOptions):
        if f.name in ("task", *_REFUSED):
            continue
        hint = hints[f.name]
        plain = get_args(hint)[0] if hasattr(hint, "__metadata__") else hint
        names[f.name] = names[f.name.replace("_", "-")] = (f.name, plain)
        for meta in getattr(hint, "__metadata__", ()):
            # in Annotated form typer keeps the first flag name in `default`
            decls = (getattr(meta, "default", None), *(getattr(meta, "param_decls", None) or ()))
            for decl in decls:
                if isinstance(decl, str) and decl.startswith("--"):
                    flag = decl[2:]
                    names[flag] = names[flag.replace("-", "_")] = (f.name, plain)
    return names


def _agent_parameters() -> frozenset[str]:
    from agent._agent import Agent

    params = inspect.signature(Agent.__init__).parameters
    return frozenset(params) - _AGENT_REFUSED


class _Reader:
    def __init__(self, name: str, base_dir: Path, trusted: bool) -> None:
        self.name = name
        self.base_dir = base_dir
        self.trusted = trusted
        self.errors: list[str] = []
        self.fields = _run_fields()
        self.agent_params = _agent_parameters()

    def error(self, line: int, message: str) -> None:
        self.errors.append(f"{self.name}:{line}: {message}"[:500])

    def task(self, index: int, line: int, data: Any, key_lines: dict[str, int]) -> BatchTask:
        fallback = BatchTask(id=f"task-{index + 1}", index=index, line=line, task="")
        if not isinstance(data, dict):
            self.error(line, f"a task must be an object, got {type(data).__name__}")
            return fallback
        options: dict[str, Any] = {}
        errors_before = len(self.errors)
        for key, value in data.items():
            where = key_lines.get(str(key), line)
            if not isinstance(key, str):
                self.error(where, f"keys must be strings, got {key!r}"[:200])
            elif key in _BATCH_KEYS:
                continue
            elif key in self.fields:
                fname, plain = self.fields[key]
                if fname in _TRUSTED_ONLY and not self.trusted:
                    self.error(
                        where,
                        f"{key}: needs --trust-task-file (it runs programs or "
                        "decides where the API key is sent)",
                    )
                    continue
                ok, coerced = _coerce(value, plain)
                if ok:
                    ok, coerced = self._paths(key, coerced)
                if not ok:
                    self.error(where, f"{key}: {coerced}")
                elif fname in options:
                    self.error(where, f"{key}: given twice (as another name of {fname})")
                else:
                    options[fname] = coerced
            elif key.replace("-", "_") in _REFUSED:
                self.error(where, f"{key}: a task file may not set this; use the command line")
            else:
                self.error(where, f"unknown key {key!r}")
        task_text = data.get("task")
        if not isinstance(task_text, str) or not task_text.strip():
            self.error(key_lines.get("task", line), "task: a non-empty string is required")
            task_text = ""
        task_id = self._id(data, index, task_text, key_lines.get("id", line))
        demo_path = None
        url = options.get("url")
        if isinstance(url, str) and url.startswith("demo:"):
            demo_path = url[len("demo:") :] or "/"
            if not demo_path.startswith("/") or any(c in demo_path for c in "\\\r\n\t "):
                self.error(key_lines.get("url", line), f"url: demo:{demo_path!r} needs a /PATH")
            options.pop("url")
        repeat = self._repeat(data.get("repeat"), key_lines.get("repeat", line))
        check = self._check(data.get("check"), key_lines.get("check", line))
        script = self._script(data.get("script"), key_lines.get("script", line))
        agent = self._agent(data.get("agent"), key_lines.get("agent", line))
        if len(self.errors) > errors_before:
            return dataclasses.replace(fallback, id=task_id)
        return BatchTask(
            id=task_id,
            index=index,
            line=line,
            task=task_text,
            options=options,
            demo_path=demo_path,
            script=script,
            check=check,
            agent=agent,
            repeat=repeat,
        )

    def _paths(self, key: str, value: Any) -> tuple[bool, Any]:
        """A path option: relative to the task file, and inside its directory unless trusted."""
        if isinstance(value, list):
            checked = [self._paths(key, v) for v in value]
            bad = next((c for c in checked if not c[0]), None)
            return bad if bad is not None else (True, [c[1] for c in checked])
        if not isinstance(value, Path):
            return True, value
        path = (self.base_dir / value).resolve()
        if not self.trusted and not path.is_relative_to(self.base_dir.resolve()):
            return False, "a path outside the task file's directory needs --trust-task-file"
        return True, path

    def _id(self, data: dict[str, Any], index: int, text: str, line: int) -> str:
        raw = data.get("id")
        if raw is None:
            slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "task"
            return f"{index + 1:03d}-{slug}"
        if not isinstance(raw, str) or not _ID_RE.match(raw):
            self.error(
                line,
                "id: 1-64 letters, digits, '.', '_' or '-', starting with a "
                f"letter or digit; got {raw!r}"[:200],
            )
            return f"task-{index + 1}"
        return raw

    def _repeat(self, raw: Any, line: int) -> int | None:
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_REPEAT:
            self.error(line, f"repeat: an integer from 1 to {MAX_REPEAT}, got {raw!r}"[:200])
            return None
        return raw

    def _check(self, raw: Any, line: int) -> SuccessCheck | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or not raw:
            self.error(line, "check: an object with answer, url, question and/or command")
            return None
        unknown = sorted(str(k) for k in raw if k not in _CHECK_KEYS)
        if unknown:
            self.error(line, f"check: unknown key(s) {unknown}; use {sorted(_CHECK_KEYS)}")
        if not set(raw) & (_CHECK_KEYS - {"timeout"}):
            self.error(line, "check: give at least one of answer, url, question, command")
        patterns: dict[str, str | None] = {}
        for key in ("answer", "url"):
            value = raw.get(key)
            patterns[key] = None
            if value is None:
                continue
            if not isinstance(value, str) or not value:
                self.error(line, f"check.{key}: a regular expression string")
                continue
            try:
                re.compile(value)
            except re.error as exc:
                self.error(line, f"check.{key}: not a valid regular expression: {exc}")
                continue
            patterns[key] = value
        question = raw.get("question")
        if question is not None and (not isinstance(question, str) or not question.strip()):
            self.error(line, "check.question: a non-empty string")
            question = None
        command = self._command(raw.get("command"), line)
        timeout = raw.get("timeout", 60.0)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not (0 < timeout <= 3600)
        ):
            self.error(
                line, f"check.timeout: seconds, more than 0 and at most 3600; got {timeout!r}"
            )
            timeout = 60.0
        return SuccessCheck(
            answer=patterns["answer"],
            url=patterns["url"],
            question=question,
            command=command,
            timeout_s=float(timeout),
        )

    def _command(self, raw: Any, line: int) -> tuple[str, ...] | None:
        if raw is None:
            return None
        if not self.trusted:
            self.error(line, "check.command: runs a program; needs --trust-task-file")
            return None
        try:
            argv = shlex.split(raw) if isinstance(raw, str) else raw
        except ValueError as exc:
            self.error(line, f"check.command: cannot be split: {exc}")
            return None
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            self.error(line, "check.command: a command line string or a list of strings")
            return None
        return tuple(argv)

    def _script(self, raw: Any, line: int) -> tuple[Any, ...] | None:
        from agent.testing import Script

        if raw is None:
            return None
        turns: Any = raw
        if isinstance(raw, str):
            path = (self.base_dir / raw).resolve()
            if not self.trusted and not path.is_relative_to(self.base_dir.resolve()):
                self.error(
                    line, "script: a path outside the task file's directory needs --trust-task-file"
                )
                return None
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    self.error(line, f"script: {raw} is larger than {MAX_FILE_BYTES} bytes")
                    return None
                turns = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError) as exc:
                self.error(line, f"script: cannot read {raw}: {type(exc).__name__}")
                return None
        if not isinstance(turns, list):
            self.error(line, "script: a list of turns, or the path of a JSON file holding one")
            return None
        try:
            Script(turns)
        except Exception as exc:  # the script's own check; any failure is the file's fault
            self.error(line, f"script: {exc}")
            return None
        return tuple(turns)

    def _agent(self, raw: Any, line: int) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.error(line, "agent: an object of Agent keyword arguments")
            return {}
        unknown = sorted(str(k) for k in raw if k not in self.agent_params)
        if unknown:
            self.error(line, f"agent: not an Agent argument a task file may set: {unknown}")
            return {}
        nulls = sorted(str(k) for k, v in raw.items() if v is None)
        if nulls:  # None lifts a bound (max_actions_per_response...): leave the key out instead
            self.error(line, f"agent: null is not allowed (leave the key out): {nulls}")
            return {}
        return dict(raw)


def _coerce(value: Any, plain: Any) -> tuple[bool, Any]:
    """Check a JSON/YAML value against a RunOptions field's type: (ok, value or message)."""
    origin = get_origin(plain)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(plain) if a is not type(None)]
        if value is None:
            return (True, None) if len(members) < len(get_args(plain)) else (False, "required")
        return _coerce(value, members[0]) if len(members) == 1 else (True, value)
    if origin is list:
        (item,) = get_args(plain) or (str,)
        values = value if isinstance(value, list) else [value]
        out = []
        for each in values:
            ok, coerced = _coerce(each, item)
            if not ok:
                return False, f"a list of {getattr(item, '__name__', item)}: {coerced}"
            out.append(coerced)
        return True, out
    if plain is bool:
        return (
            (True, value) if isinstance(value, bool) else (False, f"true or false, got {value!r}")
        )
    if plain is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return True, value
        return False, f"an integer, got {value!r}"[:120]
    if plain is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, float(value)
        return False, f"a number, got {value!r}"[:120]
    if plain is str:
        return (
            (True, value) if isinstance(value, str) else (False, f"a string, got {value!r}"[:120])
        )
    if plain is Path:
        return (True, Path(value)) if isinstance(value, str) and value else (False, "a path")
    return True, value
