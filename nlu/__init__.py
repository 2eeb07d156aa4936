"""The Rasa NLU project (config, training data) and the app's side of it: client, server, train, eval."""
