"""The official EPCIS 2.0 schemas shipped in `keruen/epcis/data`, loaded once.

The JSON Schema (draft-07) for documents, the REST binding's query schema for query
bodies, and the XSDs (documents, query documents, master data) for XML.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
from jsonschema import Draft7Validator
from lxml import etree

__all__ = ["XSD_BY_NAMESPACE", "document_schema", "query_schema", "xsd"]

XSD_BY_NAMESPACE = {
    "urn:epcglobal:epcis:xsd:2": "EPCglobal-epcis-2_0.xsd",
    "urn:epcglobal:epcis-query:xsd:2": "EPCglobal-epcis-query-2_0.xsd",
    "urn:epcglobal:epcis-masterdata:xsd:2": "EPCglobal-epcis-masterdata-2_0.xsd",
}


def _data_text(name: str) -> str:
    return resources.files("keruen.epcis").joinpath("data", name).read_text(encoding="utf-8")


def load_json(name: str) -> Any:
    return json.loads(_data_text(name))


@cache
def document_schema() -> Draft7Validator:
    return Draft7Validator(load_json("EPCIS-JSON-Schema.json"))


@cache
def fast_validators() -> tuple[Any, Any]:
    """Rust validators of the same schemas: the fast yes/no; the Python ones explain a no."""
    return (
        jsonschema_rs.Draft7Validator(load_json("EPCIS-JSON-Schema.json")),
        jsonschema_rs.Draft7Validator(load_json("query-schema.json")),
    )


@cache
def query_schema() -> Draft7Validator:
    return Draft7Validator(load_json("query-schema.json"))


@cache
def xsd(name: str) -> etree.XMLSchema:
    """An XSD with its imports resolved beside it in the package (no network)."""
    with resources.as_file(resources.files("keruen.epcis").joinpath("data", "xsd", name)) as p:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        return etree.XMLSchema(etree.parse(str(p), parser))
