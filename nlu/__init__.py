"""The Rasa NLU project (config, training data) and the app's side of it.

Client, local server, training and evaluation commands live here too.
"""
