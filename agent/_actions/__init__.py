"""The action vocabulary: the canonical models, parsing what models emit, dispatch to a
`Computer`, and the mapping back from recorded steps (replay, report, live view)."""
