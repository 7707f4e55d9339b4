"""The public JSON API of the embeddable booking widget (/api/v1/). See booking/api/openapi.py."""
