from tests.bot.db.conftest import database, database_url, protector, store

__all__ = ["database", "database_url", "protector", "store"]
