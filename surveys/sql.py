"""Named SQL queries kept in `queries.sql` files (aiosql style), loaded once per package."""

from __future__ import annotations

import re
from pathlib import Path

_HEADER = re.compile(r"^--\s*name:\s*([a-z0-9-]+)[\^\$!*]*\s*$", re.MULTILINE)


class Queries:
    """The named queries of one `queries.sql` file."""

    def __init__(self, path: Path) -> None:
        text = path.read_text()
        self._sql: dict[str, str] = {}
        headers = list(_HEADER.finditer(text))
        if not headers:
            raise ValueError(f"{path} holds no '-- name:' queries")
        for this, nxt in zip(headers, [*headers[1:], None], strict=True):
            body = text[this.end() : nxt.start() if nxt else len(text)]
            lines = [ln for ln in body.strip().splitlines() if not ln.lstrip().startswith("--")]
            sql = "\n".join(lines).strip().rstrip(";")
            if this.group(1) in self._sql:
                raise ValueError(f"{path}: query {this.group(1)} is defined twice")
            self._sql[this.group(1)] = sql

    def __getitem__(self, name: str) -> str:
        return self._sql[name]

    def __contains__(self, name: str) -> bool:
        return name in self._sql

    def names(self) -> list[str]:
        return sorted(self._sql)


def load(package_file: str) -> Queries:
    """Load the `queries.sql` beside the given module file (pass `__file__`)."""
    return Queries(Path(package_file).with_name("queries.sql"))
