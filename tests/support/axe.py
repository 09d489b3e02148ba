"""axe-core in a Playwright page: the serious and critical accessibility violations of what is
on screen. The page's context needs `bypass_csp=True`: axe is injected as a script the app's
Content-Security-Policy would (rightly) refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")

_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(' ')),
  }));
}"""


def severe_violations(page: Page) -> list[dict[str, Any]]:
    """Each serious or critical violation: rule id, impact, help, the selectors of its nodes."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(_RUN)
    return [v for v in found if v["impact"] in SEVERE]


def report(screens: dict[str, list[dict[str, Any]]]) -> str:
    """One line per violation, by screen: what a failing test prints."""
    lines = [
        f"{screen}: {v['id']} ({v['impact']}) {v['help']} at {', '.join(v['nodes'][:5])}"
        for screen, violations in screens.items()
        for v in violations
    ]
    return "\n".join(lines)
