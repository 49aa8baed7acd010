"""naq_core.testing.permissions reads the one conf block of a page's Permissions section."""

from __future__ import annotations

from pathlib import Path

import pytest

from naq_core.testing.permissions import documented_config

PAGE = """# Security

## Permissions (least privilege)

Text.

```conf
authorization {{ users: [] }}
```
{extra}
## Next section

```conf
not this one
```
"""


def test_the_one_conf_block_of_the_section_is_read(tmp_path: Path) -> None:
    doc = tmp_path / "security.md"
    doc.write_text(PAGE.format(extra=""), encoding="utf-8")
    assert documented_config(doc) == "authorization { users: [] }\n"


def test_a_second_conf_block_in_the_section_is_an_error(tmp_path: Path) -> None:
    doc = tmp_path / "security.md"
    doc.write_text(PAGE.format(extra="\n```conf\nmore\n```\n"), encoding="utf-8")
    with pytest.raises(ValueError, match="2 conf blocks"):
        documented_config(doc)


def test_a_page_without_the_section_is_an_error(tmp_path: Path) -> None:
    doc = tmp_path / "security.md"
    doc.write_text("# Security\n\n## Other\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no '## Permissions"):
        documented_config(doc)
