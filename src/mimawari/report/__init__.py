"""Output sinks, one module each; they render library results and hold no business logic."""
