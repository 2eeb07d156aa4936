"""Custom Rasa components; imported by Rasa (Python 3.10 venv) from `nlu/config.yml`."""
