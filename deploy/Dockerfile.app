# The app (Python 3.11): webhooks, web chat, staff pages. Several workers per container.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY kernel kernel
COPY nlu nlu
COPY content content
COPY config.yml .
# Editable: settings find config.yml, content/ and nlu/ next to the bot package.
RUN pip install --no-cache-dir -e . && useradd --system ventanilla && mkdir -p /app/data \
    && chown ventanilla /app/data
USER ventanilla
ENV VENTANILLA_MODE=production VENTANILLA_SERVER_HOST=0.0.0.0
EXPOSE 8000
# NLU_URL must point at the NLU service; DATABASE_URL at PostgreSQL.
CMD ["ventanilla", "run", "--workers", "2"]
