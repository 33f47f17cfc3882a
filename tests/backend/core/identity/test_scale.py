"""The benchmark population: valid unique numbers, realistic shares, deterministic, resumable."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import date

from backend.core.db import connect
from backend.core.identifiers import parse_insz
from backend.core.identity.scale import generate_people
from backend.core.migrations import migrate

# Person 0 of seed 2026, pinned so a change to the generator (which would silently change every benchmark
# population) is a deliberate decision.
FIRST_PERSON = ("Marc", "Colin", date(1935, 1, 1), "fr", "35210190148", "bis")

POPULATION = """
    SELECT p.given_name, p.family_name, p.birth_date, p.language, p.email, i.insz, i.kind
    FROM people p JOIN person_identifiers i USING (person_id)
"""


async def test_the_population_is_valid_realistic_deterministic_and_resumable(scratch_database_url: str) -> None:
    owner = await connect(scratch_database_url, as_app=False)
    await migrate(owner)
    conn = await connect(scratch_database_url)  # as the application, like the `vitrine seed` command
    try:
        seen: list[int] = []
        assert await generate_people(conn, citizens=2_000, batch_size=700, progress=seen.append) == 2_000
        assert seen == [700, 1_400, 2_000], "one progress call per committed batch, with the running total"
        assert await conn.fetchval("SELECT count(*) FROM people") == 2_000
        rows = await conn.fetch(POPULATION)
        assert len(rows) == 2_000

        numbers = [row["insz"] for row in rows]
        assert len(set(numbers)) == 2_000
        parsed = [parse_insz(number, today=date(2026, 1, 1)) for number in numbers]
        assert all(number.birth_date == row["birth_date"] for number, row in zip(parsed, rows, strict=True))
        assert all(number.kind == row["kind"] for number, row in zip(parsed, rows, strict=True))
        assert 30 <= sum(number.kind == "bis" for number in parsed) <= 90  # about 3%
        assert all(1935 <= row["birth_date"].year <= 2008 for row in rows)
        assert len({row["birth_date"].year for row in rows}) == 2008 - 1935 + 1

        languages = Counter(row["language"] for row in rows)
        assert 0.53 <= languages["nl"] / 2_000 <= 0.63
        assert 0.35 <= languages["fr"] / 2_000 <= 0.45
        assert 0 < languages["de"] + languages["en"] <= 100
        assert sum(row["email"] is not None for row in rows) < 400, "most people have no e-mail address"
        assert len({row["given_name"] for row in rows}) > 150
        assert len({row["family_name"] for row in rows}) > 100

        assert await generate_people(conn, citizens=2_000) == 0, "a rerun adds nothing"
        assert await generate_people(conn, citizens=3_000, batch_size=1_300) == 1_000, "a larger run resumes"
        assert await conn.fetchval("SELECT count(DISTINCT insz) FROM person_identifiers") == 3_000
        first = await conn.fetchrow(
            "SELECT p.given_name, p.family_name, p.birth_date, p.language, i.insz, i.kind"
            " FROM people p JOIN person_identifiers i USING (person_id) WHERE i.insz = $1",
            FIRST_PERSON[4],
        )
        assert first is not None
        assert tuple(first) == FIRST_PERSON
        population = sorted(tuple(row) for row in await conn.fetch(POPULATION))

        # Batch sizes and resumption do not change who is generated: one fresh run of 3,000 makes the same people.
        await conn.execute("DELETE FROM person_identifiers; DELETE FROM people")
        assert await generate_people(conn, citizens=3_000) == 3_000
        assert sorted(tuple(row) for row in await conn.fetch(POPULATION)) == population
    finally:
        await conn.close()
        await owner.close()


def test_a_bad_scale_is_refused_in_one_line() -> None:
    environ = {**os.environ, "VITRINE_ENV": "development"}
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", "seed", "--scale", "citizens=abc"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--scale" in lines[0]
    assert "citizens=N" in lines[0]
