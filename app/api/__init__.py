"""HTTP layer: translates requests and responses; all work happens in app.engine."""
