"""`screenloop batch`: many runs from one task file -- repeat, shard, resume, summarize.

- `_tasks`: the task file (JSONL or YAML) read as untrusted input into `BatchTask`s;
  every problem is a line-numbered `TaskFileError`.
- `_attempt`: one attempt of one task -- its computer (through the run command's
  own `open_run_computer`), its model (or a scripted one), the run, its success check.
- `_checks`: the success checks: final answer, URL, an `agent.check` question, a command.
- `_engine`: the plan (shard, repeats, resume) and the concurrent attempts.
- `_summary`: ``summary.json`` from the attempt records, and `merge` of shard outputs.
- `_index`: ``index.html``, in the run report's visual language.

The wing sits with `agent/_cli` (it builds computers through agent/_cli/_run.py,
so every computer the run command can open, a batch can too).
"""
