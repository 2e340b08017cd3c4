# The API image. The service applies Neo4j migrations itself at start-up.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph_service ./graph_service
COPY cypher ./cypher
COPY seed ./seed
RUN pip install --no-cache-dir -e .
ENV GRAPH_SERVICE_HOST=0.0.0.0 GRAPH_SERVICE_DATA_DIR=/data
EXPOSE 8000
CMD ["graph-service", "serve"]
