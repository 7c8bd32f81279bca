"""Optional: the real Mermaid renderer draws our diagrams, hostile names included.

Needs the Mermaid CLI (`npm install @mermaid-js/mermaid-cli` with PUPPETEER_SKIP_DOWNLOAD=1)
and Debian's chromium: `mmdc` and `chromium` on PATH, or MERMAID_CLI and CHROMIUM naming
them. Without them the test is skipped; it never installs anything or uses the network.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.graph import mermaid, printable
from reconciler.kinds.pipelines.inputs import desired_input
from reconciler.manifest import load_desired
from reconciler.normalize import canonical
from reconciler.render.markup import fence

EXAMPLE = Path(__file__).parent.parent.parent / "pipelines"
MMDC = os.environ.get("MERMAID_CLI") or shutil.which("mmdc")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium")
HOSTILE = 'say "hi" <script>alert(1)</script> | [x] {y} #1; end `` ~~ naïve 😀 \u202eevil'

pytestmark = pytest.mark.skipif(
    not (MMDC and CHROMIUM),
    reason="the Mermaid CLI (mmdc) and chromium are not installed; see the module docstring")


def test_example_and_hostile_pipelines_render_to_svg(tmp_path: Path) -> None:
    pipelines = desired_input(load_desired(EXAMPLE).projects["web"])
    hostile = canonical({"key": "hostile", "name": HOSTILE, "phases": [
        {"name": HOSTILE, "audiences": [{"name": HOSTILE, "environmentKey": "test",
                                         "segmentKeys": [HOSTILE]}]},
        {"name": "end", "audiences": [{"name": "subgraph", "environmentKey": "x"}]}]})
    diagrams = [mermaid(form, default=key == pipelines.default_key)
                for key, form in pipelines.pipelines.items()]
    diagrams.append(mermaid(hostile, changed=["/phases/0/audiences/0/name", "/phases/1/name"]))
    source = tmp_path / "diagrams.md"
    source.write_text("\n".join(fence(d, "mermaid") for d in diagrams), encoding="utf-8")
    config = tmp_path / "puppeteer.json"
    # --no-sandbox: chromium refuses to start as root (CI containers) without it.
    config.write_text(json.dumps({"executablePath": CHROMIUM, "args": ["--no-sandbox"]}))

    result = subprocess.run(
        [MMDC, "-p", str(config), "-i", str(source), "-o", str(tmp_path / "out.md")],
        capture_output=True, text=True, timeout=180, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    svgs = [(tmp_path / f"out-{n}.svg").read_text(encoding="utf-8")
            for n in range(1, len(diagrams) + 1)]
    for (key, form), svg in zip(pipelines.pipelines.items(), svgs, strict=False):
        assert f">{form['name']} ({key})" in svg
        assert len(re.findall(r'class="cluster[ "]', svg)) == len(form["phases"])
    hostile_svg = svgs[-1]
    assert len(re.findall(r'class="cluster changed"', hostile_svg)) == 1
    assert len(re.findall(r'class="node default changed"', hostile_svg)) == 1
    assert "<script" not in hostile_svg  # shown as text, never markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_svg
    assert printable("\u202eevil") in hostile_svg
