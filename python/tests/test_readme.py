"""The code of python/README.md runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "no python block in the README"
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert "standardized precipitation index" in out
    rpss = float(out.split("RPSS")[-1])
    # the models carry the observed signal: clearly better than climatology
    assert 0.1 < rpss < 1.0
