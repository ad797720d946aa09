FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY helpdesk ./helpdesk
COPY sla ./sla
COPY knowledge_base ./knowledge_base
COPY dispatch ./dispatch
COPY migrations ./migrations
RUN pip install --no-cache-dir -e .
RUN useradd --create-home helpdesk
USER helpdesk
EXPOSE 8000
CMD ["helpdesk", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
