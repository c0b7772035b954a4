"""Local HTTP doubles of external systems: real servers on 127.0.0.1 that real clients call."""
