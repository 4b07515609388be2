"""The index's metadata: key and value, as text."""

from __future__ import annotations

from .database import Database


class MetaRows:
    """Reads and writes of ``meta``."""

    def __init__(self, db: Database):
        self.db = db

    def get(self) -> dict[str, str]:
        """Every key and its value (none where the database has no metadata yet)."""
        if "meta" not in self.db.table_names():
            return {}
        return {row["key"]: row["value"] for row in self.db.table("meta").rows}

    def set(self, **values: object) -> None:
        """Set each key to its value, as text."""
        self.db.table("meta").upsert_all(
            [{"key": k, "value": str(v)} for k, v in values.items()], pk="key")

    def flag(self, key: str) -> bool:
        """Whether ``key`` is set to "1"."""
        row = self.db.execute("select value from meta where key = ?", [key]).fetchone()
        return bool(row and row[0] == "1")

    def set_flag(self, key: str, on: bool) -> None:
        self.db.execute("insert or replace into meta (key, value) values (?, ?)",
                        [key, "1" if on else "0"])
