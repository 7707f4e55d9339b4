# Production image: gunicorn (web), Celery worker and beat all run from it (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=settings.prod \
    DATA_DIR=/app/var

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first (cached until the lock changes); every file is checked against its hash.
# --no-deps: the lock already lists the complete tree, so nothing unpinned can slip in.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

# The code stays owned by root (the app cannot modify itself); only DATA_DIR is writable, for
# beat's schedule file. Production state lives in PostgreSQL and Redis, not here.
COPY . .
RUN mkdir -p /app/var/celery && chown -R app:app /app/var

USER app

# Static files are built into the image. settings.prod refuses to load without a real secret, so
# this one step gets a random key of its own: it exists only in this RUN's environment and is
# never stored in the image.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput -v0

EXPOSE 8000
# The access and error logs redact the private manage links (security.gunicorn_logging).
CMD ["gunicorn", "settings.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--logger-class", "security.gunicorn_logging.RedactingLogger"]
