"""Channel adapters: platform payload <-> neutral types. Translation only."""
