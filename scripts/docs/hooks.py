"""MkDocs hooks (``mkdocs.yml``: ``hooks:``): links from docs/ to files outside it, made site links.

The pages of ``docs/`` are read on GitHub too, where ``../agents/README.md`` is the right link; on the
site that README is the generated page ``agents.md`` (``scripts/docs/gen_pages.py``). This rewrites such
links when a page is rendered, so both readings work. Any other link out of ``docs/`` is left alone, and
``mkdocs build --strict`` reports it.
"""

from __future__ import annotations

import posixpath
import re

#: Files outside docs/ that the site carries, by their path from the repository root -> site page.
OUTSIDE = {"agents/README.md": "agents.md"}

_LINK = re.compile(r"\]\(((?:\.\./)+)([^)#\s]+)(#[^)\s]*)?\)")


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001  # MkDocs' hook signature
    here = posixpath.dirname(page.file.src_uri)

    def fix(m: re.Match) -> str:
        target = posixpath.normpath(posixpath.join("docs", here, m.group(1) + m.group(2)))
        if target not in OUTSIDE:
            return m.group(0)
        rel = posixpath.relpath(OUTSIDE[target], here or ".")
        return f"]({rel}{m.group(3) or ''})"

    return _LINK.sub(fix, markdown)
