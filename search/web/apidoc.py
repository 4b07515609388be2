"""/docs: the JSON API's reference, rendered on the server from the app's own OpenAPI schema.

FastAPI's stock /docs and /redoc pages load their scripts from a CDN; this page needs
nothing from elsewhere and reads the same schema, so it cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .form import FormState, base_context
from .render import render

router = APIRouter(include_in_schema=False)


def type_name(schema: dict) -> str:
    """A short, Python-like name for a JSON schema: ``str | None``, ``list[PassageOut]``."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(type_name(option) for option in schema["anyOf"])
    kind = schema.get("type")
    if not isinstance(kind, str):
        return "any"
    if kind == "array":
        if "prefixItems" in schema:
            return "[" + ", ".join(type_name(item) for item in schema["prefixItems"]) + "]"
        return f"list[{type_name(schema.get('items', {}))}]"
    names = {"string": "str", "integer": "int", "number": "float", "boolean": "bool",
             "null": "None", "object": "object"}
    return names.get(kind, kind)


def constraints(schema: dict) -> str:
    parts = []
    for key, label in (("minLength", "min length"), ("maxLength", "max length"),
                       ("minimum", "min"), ("maximum", "max")):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    if "default" in schema and schema["default"] not in (None, []):
        default = schema["default"]
        parts.append(f"default {str(default).lower() if isinstance(default, bool) else default}")
    return ", ".join(parts)


@dataclass
class Field:
    name: str
    type: str
    required: bool
    notes: str = ""
    description: str = ""


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Field] = field(default_factory=list)
    responses: list[tuple[str, str, str | None]] = field(default_factory=list)


def operations(spec: dict) -> list[Operation]:
    found = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            entry = Operation(method.upper(), path, op.get("summary", ""),
                              op.get("description", ""))
            for param in op.get("parameters", []):
                schema = param.get("schema", {})
                entry.parameters.append(Field(
                    param["name"], type_name(schema), param.get("required", False),
                    constraints(schema), param.get("description", "")))
            for status, response in op.get("responses", {}).items():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                model = schema.get("$ref", "").rsplit("/", 1)[-1] or None
                entry.responses.append((status, response.get("description", ""), model))
            found.append(entry)
    return found


def schemas(spec: dict) -> list[tuple[str, str, list[Field]]]:
    found = []
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        fields = [
            Field(prop, type_name(sub), prop in required, constraints(sub),
                  sub.get("description", ""))
            for prop, sub in schema.get("properties", {}).items()
        ]
        found.append((name, schema.get("description", ""), fields))
    return found


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    spec = request.app.openapi()
    context = base_context(FormState())
    context.update(spec=spec, operations=operations(spec), schemas=schemas(spec),
                   base_url=str(request.base_url).rstrip("/"))
    return render(request, "api_docs.html", context)
