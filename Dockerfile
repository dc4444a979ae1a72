FROM python:3.12-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY webapp ./webapp
COPY locales ./locales
RUN pip install --no-cache-dir . && pybabel compile -d locales -D messages
EXPOSE 8080
CMD ["python", "-m", "bot", "run"]
