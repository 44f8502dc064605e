"""axe-core (vendored from npm, tests/support/axe/) run in a Playwright page."""

from pathlib import Path

AXE_SCRIPT = Path(__file__).parent / "axe" / "axe-4.14.1.min.js"
BLOCKING_IMPACTS = ("serious", "critical")

_RUN = """async (impacts) => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.map((n) => n.target.join(" ")) }));
}"""


def install_axe(context) -> None:
    """Make axe available in every page of the context.

    An init script is injected by the browser itself, so the app's CSP (script-src 'self',
    no inline scripts) stays exactly as it is and still applies to everything else.
    """
    context.add_init_script(path=str(AXE_SCRIPT))


def blocking_violations(page) -> list[dict]:
    """axe's serious and critical violations on the page as it is now."""
    return page.evaluate(_RUN, list(BLOCKING_IMPACTS))
