"""Orchestration: load a policy reference (a file, an id, a git revision) through the
checked-policy cache, then prepare data and run the engine a policy's size calls for. The
stages themselves live below (policy, check, data, engine, compile); this layer only joins
them, so analyses, reports and the command line start here."""
