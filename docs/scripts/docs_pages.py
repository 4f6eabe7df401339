"""Write the documentation pages generated from the repository (``make docs-pages``); commit the result.

``docs/materials.md``: the material library, from ``ssbfem.materials.library`` (values and sources).
``docs/performance.md``: the hand-written text above its ``<!-- benchmark-results -->`` line is
kept; below it goes ``benchmarks/RESULTS.md``, its title a section of the page.

tests/test_docs.py checks that the committed pages are what this script writes now, so a change
of the library or of the benchmark records fails there until the pages are written again.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MATERIALS = REPO / "docs" / "materials.md"
PERFORMANCE = REPO / "docs" / "performance.md"
RESULTS = REPO / "benchmarks" / "RESULTS.md"
MARKER = "<!-- benchmark-results -->"
GENERATED = "<!-- Written by `make docs-pages` (docs/scripts/docs_pages.py) from {source}: edit that, not this. -->"

MATERIALS_INTRO = """# Material library

`ssbfem/materials/library.py`. A layer takes every property it does not set from its material;
values are at the reference temperature (298.15 K), in the unit the key names. The tables below
are generated from the library.
"""


def materials_page() -> str:
    """docs/materials.md: the sources, then one table per material (key, value, source)."""
    sys.path.insert(0, str(REPO))
    from ssbfem.materials import library

    sources = library.__doc__.split("Sources (short keys):", 1)[1]
    lines = [MATERIALS_INTRO, GENERATED.format(source="ssbfem/materials/library.py"), ""]
    lines += ["## Sources", "", "```text", *[line[4:] for line in sources.strip("\n").splitlines()], "```", ""]
    for material in library.MATERIALS.values():
        role = material.role.replace("_", " ")
        lines += [f"## {material.name} ({role})", "", "| key | value | source |", "|---|---|---|"]
        for key, prop in material.properties.items():
            value = f"{prop.value:.6g}" if isinstance(prop.value, float) else str(prop.value)
            lines.append(f"| `{key}` | {value} | {prop.source} |")
        lines.append("")
    return "\n".join(lines)


def performance_page() -> str:
    """docs/performance.md: its hand-written part, then benchmarks/RESULTS.md one heading level down."""
    text = PERFORMANCE.read_text()
    if MARKER not in text:
        raise SystemExit(f"{PERFORMANCE}: no line {MARKER} to put the benchmark results under")
    handwritten = text.split(MARKER, 1)[0]
    results, fenced = [], False
    for line in RESULTS.read_text().splitlines():
        fenced ^= line.startswith("```")
        results.append("#" + line if line.startswith("#") and not fenced else line)
    generated = [MARKER, GENERATED.format(source="benchmarks/RESULTS.md"), "", *results]
    return handwritten + "\n".join(generated).rstrip("\n") + "\n"


def main() -> None:
    for path, text in ((MATERIALS, materials_page()), (PERFORMANCE, performance_page())):
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
