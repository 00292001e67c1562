"""screenloop's benchmarks: ``python -m bench`` (see bench/README.md).

Figures: step overhead vs a typical runtime (`bench._step`), settle
(`bench._settle`), growth with history mode (`bench._growth`), concurrency and
memory (`bench._concurrency`), capture paths (`bench._capture`, folding in
`bench.capture_desktop`).
"""

__all__: list[str] = []
