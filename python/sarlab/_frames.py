"""Result tables as pandas or polars DataFrames, whichever is installed (or asked for)."""


def table(rows, frame="auto"):
    """``rows`` (a list of dicts with the same keys, in column order) as a DataFrame:
    ``frame`` is ``"pandas"``, ``"polars"``, ``"auto"`` (pandas if installed, then
    polars, else the list itself) or ``None`` (the list)."""
    if frame is None:
        return rows
    if frame not in ("auto", "pandas", "polars"):
        raise ValueError(f'frame: expected "auto", "pandas", "polars" or None, got {frame!r}')
    columns = list(rows[0].keys()) if rows else []
    if frame in ("auto", "pandas"):
        try:
            import pandas as pd
        except ImportError:
            if frame == "pandas":
                raise
        else:
            return pd.DataFrame.from_records(rows, columns=columns)
    try:
        import polars as pl
    except ImportError:
        if frame == "polars":
            raise
        return rows
    return pl.DataFrame(rows, infer_schema_length=None)
