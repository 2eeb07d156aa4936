"""Staff pages at /admin: accounts, content editing, review dates, test gate, retraining."""
