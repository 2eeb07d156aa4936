"""The neutral kernel every layer may import: plain types and text rules, standard library only.

`handlers/` (pure decisions), `nlu/` (the classifier's side) and `bot/` (the app) all
build on it, and it builds on nothing of theirs, so none of them has to import another
to share a message type or a normalisation rule.
"""
