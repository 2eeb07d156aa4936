"""What to answer: intent -> replies. Reads content; never imports a channel SDK or the database."""
