"""Walking the app's routes: every rule but static files, and a path built for each."""

from werkzeug.routing import IntegerConverter, Rule


def app_rules(app) -> list[Rule]:
    """Every route of the app except static files."""
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def build_path(rule: Rule) -> str:
    """A concrete path for the rule: 1 for integer parts, "sample" for the others."""
    values = {
        name: 1 if isinstance(rule._converters[name], IntegerConverter) else "sample"
        for name in rule.arguments
    }
    return rule.build(values, append_unknown=False)[1]
