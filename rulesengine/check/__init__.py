"""Checking: names resolved, every expression typed, lints; the result, `CheckedPolicy`, is
what every later stage (data binding, engines, compiler, analyses) consumes."""
