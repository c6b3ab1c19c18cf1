"""The SHACL layer: GS1's EPCIS 2.0 shapes (`EPCIS-SHACL.ttl`) over a document's RDF.

Opt-in (`keruen epcis validate --shacl`; needs the `shacl` extra, pyshacl): measured at
about 40 events/s (1,000 events: JSON-LD to RDF 5.1 s, SHACL 20.8 s), far too slow for the
import path. The shipped file is GS1's, unmodified; two structural errors in it are
repaired in memory when it is loaded (pyshacl refuses the file as published): 21 shapes
typed `sh:NodeShape` carry `sh:path`, and `sh:node` points at them. They are treated as
the property shapes they are. Contexts are the shipped ones: nothing is fetched.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from keruen.epcis.document import Document
from keruen.epcis.export import to_json_ld
from keruen.epcis.schemas import load_json
from keruen.epcis.validate import Issue

__all__ = ["KNOWN_CONFLICTS", "shacl_issues"]

# Shapes that flag GS1's own valid examples with this toolchain (rdflib 7, pyshacl 0.40):
# reported as warnings, each with the reason observed.
KNOWN_CONFLICTS = {
    "QuantityShape": "GS1's JSON Schema requires a JSON number, which JSON-LD types "
    "xsd:integer or xsd:double, while the shape wants xsd:decimal",
    "SourceOrDestinationTypeShape": "rdflib's JSON-LD parser leaves a bare type such as "
    "'owning_party' unexpanded (the type-scoped context of sourceList/destinationList)",
}


@cache
def _shapes() -> Any:
    import rdflib
    from rdflib.namespace import RDF, SH

    text = resources.files("keruen.epcis").joinpath("data", "EPCIS-SHACL.ttl").read_text("utf-8")
    shapes = rdflib.Graph().parse(data=text, format="turtle")
    for shape in list(shapes.subjects(RDF.type, SH.NodeShape)):
        if (shape, SH.path, None) in shapes:
            shapes.remove((shape, RDF.type, SH.NodeShape))
    for holder, shape in list(shapes.subject_objects(SH.node)):
        if (shape, SH.path, None) in shapes:
            shapes.remove((holder, SH.node, shape))
            shapes.add((holder, SH.property, shape))
    return shapes


def _local_contexts(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with GS1's context URLs replaced by the shipped contexts."""
    contexts = {"epcis-context.jsonld": load_json("epcis-context.jsonld")["@context"]}
    items = doc.get("@context")
    items = items if isinstance(items, list) else [items]
    local = [
        next((c for name, c in contexts.items() if isinstance(i, str) and i.endswith(name)), i)
        for i in items
    ]
    return {**doc, "@context": local}


def shacl_issues(doc: Document) -> tuple[list[Issue], list[Issue]]:
    """SHACL violations of a parsed document (XML ones through their JSON-LD form): errors,
    and warnings for the shapes in `KNOWN_CONFLICTS`."""
    import pyshacl
    import rdflib
    from rdflib.namespace import SH

    source = doc.raw if isinstance(doc.raw, dict) and "@context" in doc.raw else None
    data = _local_contexts(source or to_json_ld(doc.events, "1970-01-01T00:00:00Z"))
    graph = rdflib.Graph().parse(data=json.dumps(data), format="json-ld")
    conforms, report, _ = pyshacl.validate(graph, shacl_graph=_shapes(), inference="none")
    if conforms:
        return [], []
    issues = []
    for result in report.subjects(SH.resultSeverity, SH.Violation):
        path = report.value(result, SH.resultPath)
        shape = str(report.value(result, SH.sourceShape) or "").rsplit("/", 1)[-1]
        message = str(report.value(result, SH.resultMessage) or "violates the SHACL shapes")
        value = report.value(result, SH.value)
        pointer = str(path).rsplit("/", 1)[-1] if path is not None else ""
        reason = f"{message} (value {value})" if value is not None else message
        if shape in KNOWN_CONFLICTS:
            reason = f"{reason}; known conflict: {KNOWN_CONFLICTS[shape]}"
        issues.append(Issue("shacl", None, pointer, f"shacl/{shape}", reason))
    issues.sort(key=lambda i: (i.rule, i.reason))
    known = [i for i in issues if i.rule.removeprefix("shacl/") in KNOWN_CONFLICTS]
    return [i for i in issues if i not in known], known
