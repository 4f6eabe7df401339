"""MkDocs hooks: pages generated from the package when the documentation is built.

``materials.md``: the material library, from ``ssbfem.materials.library`` (values and sources).
``performance.md``: ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _materials() -> str:
    from ssbfem.materials import library

    sources = library.__doc__.split("Sources (short keys):", 1)[1]
    lines = ["## Sources", "", "```text", *[line[4:] for line in sources.strip("\n").splitlines()], "```", ""]
    for material in library.MATERIALS.values():
        role = material.role.replace("_", " ")
        lines += [f"## {material.name} ({role})", "", "| key | value | source |", "|---|---|---|"]
        for key, prop in material.properties.items():
            value = f"{prop.value:.6g}" if isinstance(prop.value, float) else str(prop.value)
            lines.append(f"| `{key}` | {value} | {prop.source} |")
        lines.append("")
    return "\n".join(lines)


def _benchmarks() -> str:
    text = (REPO / "benchmarks" / "RESULTS.md").read_text()
    # its title becomes a section of this page
    return "\n".join(("#" + line) if line.startswith("#") else line for line in text.splitlines())


def on_page_markdown(markdown: str, page, config, files) -> str:
    if "<!-- material-library -->" in markdown:
        markdown = markdown.replace("<!-- material-library -->", _materials())
    if "<!-- benchmark-results -->" in markdown:
        markdown = markdown.replace("<!-- benchmark-results -->", _benchmarks())
    return markdown
