"""The docs the code cites are in the repository, and the JSON keys page is complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from licensectl.contract import models

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

#: Every object a command prints, and where docs/json.md lists it.
DOCUMENTED: dict[type[BaseModel], str] = {
    models.PartnerPublic: "partner",
    models.CustomerDetail: "customer",
    models.CustomerShow: "customer",
    models.LicenseDetail: "license",
    models.LicenseHistory: "license history",
    models.EventPublic: "event",
    models.TransferResult: "transfer result",
    models.ActivationPublic: "activation",
    models.SmartServerPublic: "smartserver",
    models.ImportSummary: "import result",
    models.BatchResult: "batch result line",
    models.StoreCheckReport: "db check report",
    models.StoreBackup: "db backup, db upgrade",
    models.StoreSchema: "db backup, db upgrade",
    models.KeyPublic: "signing key",
    models.Principal: "who am I",
    models.TokenPublic: "API token",
    models.TokenCreated: "new token",
    models.ErrorBody: "error",
    models.ErrorDetail: "error",
}


def sections() -> dict[str, str]:
    text = (DOCS / "json.md").read_text(encoding="utf-8")
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


@pytest.mark.parametrize("model", list(DOCUMENTED), ids=lambda m: m.__name__)
def test_every_json_key_is_documented(model: type[BaseModel]) -> None:
    section = sections()[DOCUMENTED[model]]
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))
    assert set(model.model_fields) <= listed, set(model.model_fields) - listed


def test_code_cites_only_docs_that_exist() -> None:
    """Comments cite docs/ pages, not documents outside the repository."""
    cited: set[str] = set()
    outside = ("DOMAIN" + ".md", "CLI" + ".md")  # the planning documents, not shipped
    for path in [*ROOT.glob("licensectl/**/*.py"), *ROOT.glob("tests/*.py")]:
        text = path.read_text(encoding="utf-8")
        assert not any(name in text for name in outside), path
        cited |= set(re.findall(r"docs/([a-z-]+\.md)", text))
    assert cited, "the code should say where its rules are written down"
    for name in cited:
        assert (DOCS / name).is_file(), name
