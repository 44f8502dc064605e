"""Request-level helpers under the blueprints: content negotiation, error pages, headers."""
