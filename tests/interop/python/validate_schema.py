"""Validate a JSON document (stdin) against one of the vendored OIDC4IDA schemas.

    validate_schema.py SCHEMA_DIR SCHEMA_FILE < instance.json

The schemas refer to each other by $id; all files in SCHEMA_DIR are registered under their
$id so nothing is fetched. Prints "ok" (exit 0) or every validation error (exit 1).
"""
import json
import sys
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource


def main() -> int:
    schema_dir, schema_file = Path(sys.argv[1]), sys.argv[2]
    resources = []
    for path in schema_dir.glob("*.json"):
        doc = json.loads(path.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    registry = Registry().with_resources(resources)
    schema = json.loads((schema_dir / schema_file).read_text())
    validator = Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(json.load(sys.stdin)), key=lambda e: list(e.path))
    for e in errors:
        print(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}")
    if errors:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
