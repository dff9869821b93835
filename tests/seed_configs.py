"""The five seed configs (/work/shared/seeds/*.txt) translated by hand from Python to JSON.

``dlt.secrets["NAME"]`` is written ``{"secret": "NAME"}``; each config carries dummy values for its
secrets under ``secrets`` so it resolves as is. Comments inside the seeds' code blocks are dropped.
"""

from __future__ import annotations

from typing import Any

SEED_CONFIGS: dict[str, dict[str, Any]] = {
    # 000: api_key in a header; page_number with the seed's limit/limit_param; signing_links uses
    # basic auth with the auth_token secret as username (described in the seed's text).
    "000": {
        "client": {
            "base_url": "https://api.example.com",
            "auth": {
                "type": "api_key",
                "name": "api_key",
                "api_key": {"secret": "api_key_id"},
                "location": "header",
            },
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            {
                "name": "user",
                "endpoint": {
                    "path": "/user",
                    "data_selector": "data",
                    "paginator": {"type": "single_page"},
                },
            },
            {
                "name": "user_modified_documents",
                "endpoint": {
                    "path": "/user/documentsv2",
                    "data_selector": "data",
                    "paginator": {"type": "single_page"},
                },
            },
            {
                "name": "crm_contacts",
                "endpoint": {
                    "path": "/v2/crm/contacts",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "per_page",
                        "limit": 20,
                    },
                },
            },
            {
                "name": "signing_links",
                "endpoint": {
                    "path": "/v2/application/signing-links",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "per_page",
                        "limit": 20,
                    },
                    "auth": {"type": "basic", "username": {"secret": "auth_token"}},
                },
            },
        ],
        "secrets": {"api_key_id": "seed000-api-key-id", "auth_token": "seed000-auth-token"},
    },
    # 001: cursor pagination with the seed's limit and templated stop_condition.
    "001": {
        "client": {
            "base_url": "https://api.example.com/v1/",
            "auth": {
                "type": "api_key",
                "name": "X-API-Token",
                "api_key": {"secret": "api_key"},
                "location": "header",
            },
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            {
                "name": name,
                "endpoint": {
                    "path": path,
                    "data_selector": selector,
                    "paginator": {
                        "type": "cursor",
                        "limit": 50,
                        "cursor_param": "next",
                        "stop_condition": "{{ response.get('hasNext', {}) == False }}",
                    },
                },
            }
            for name, path, selector in (
                ("appointment_links", "/appointmentlinks/me", "data"),
                ("code_snippets", "/codesnippets", "results"),
                ("insights_reports", "/insightsreports", "results"),
            )
        ],
        "secrets": {"api_key": "seed001-api-key"},
    },
    # 002: bearer; page size in resource_defaults params; start_from_page; the endpoint
    # error_handler from the seed's "Error Handling" section.
    "002": {
        "client": {
            "base_url": "https://api.example.com/v2",
            "auth": {"type": "bearer", "token": {"secret": "api_token"}},
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {"params": {"per_page": 2}},
        },
        "resources": [
            {
                "name": "resource_name",
                "endpoint": {
                    "path": "/v1/resource",
                    "data_selector": "items.*.data",
                    "paginator": {
                        "type": "page_number",
                        "limit": 2,
                        "page_param": "page",
                        "start_from_page": 1,
                    },
                    "error_handler": {
                        "retry_on_status_codes": [429, 500, 502, 503, 504],
                        "max_retries": 3,
                        "backoff_factor": 2,
                    },
                },
            }
        ],
        "secrets": {"api_token": "seed002-api-token"},
    },
    # 003: basic auth with username and password; data_selector []; per-endpoint error_handler.
    "003": {
        "client": {
            "base_url": "https://api.example.com",
            "auth": {
                "type": "basic",
                "username": {"secret": "username"},
                "password": {"secret": "password"},
            },
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            {
                "name": "account",
                "endpoint": {
                    "path": "/v1/account",
                    "data_selector": [],
                    "paginator": {"type": "single_page"},
                    "error_handler": {
                        "retry_on_status_codes": [429],
                        "max_retries": 3,
                        "backoff_factor": 2,
                    },
                },
            },
            *(
                {
                    "name": name,
                    "endpoint": {
                        "path": path,
                        "data_selector": "data",
                        "paginator": {
                            "type": "cursor",
                            "limit": 50,
                            "cursor_param": "cursor",
                            "cursor_path": "meta.next_cursor",
                        },
                        "error_handler": {
                            "retry_on_status_codes": [429],
                            "max_retries": 3,
                            "backoff_factor": 2,
                        },
                    },
                }
                for name, path in (
                    ("customers", "/v1/customers"),
                    ("custom_fields", "/v1/custom-fields"),
                )
            ),
        ],
        "secrets": {"username": "seed003-user", "password": "seed003-password"},
    },
    # 004: basic auth with only a username (the API key); offset pagination with "_skip".
    "004": {
        "client": {
            "base_url": "https://api.example.com",
            "auth": {"type": "basic", "username": {"secret": "api_key"}},
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            {
                "name": name,
                "endpoint": {
                    "path": path,
                    "data_selector": "data",
                    "paginator": {"type": "offset", "limit": 1000, "offset_param": "_skip"},
                },
            }
            for name, path in (
                ("users", "/v1/user"),
                ("lead_custom_fields", "/v1/custom_field/lead"),
                ("contact_custom_fields", "/v1/custom_field/contact"),
                ("opportunity_custom_fields", "/v1/custom_field/opportunity"),
                ("activity_custom_fields", "/v1/custom_field/activity"),
            )
        ],
        "secrets": {"api_key": "seed004-api-key"},
    },
}
