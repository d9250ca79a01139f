"""Finding policies' test cases: in the policy file and in test files beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ... import codes
from ...check.checker import check
from ...diagnostics import Diagnostic, PolicyError, RegimeError, Reporter
from ...policy.document import Document, load_document
from ...policy.load import (POLICY_SUFFIXES, display_name, find_policy, list_policies, read_policy,
                            read_policy_file, search_path)
from .cases import PolicyResult
from .runner import run_cases

# --- finding policies and test files ------------------------------------------------------------

TEST_FILE_KEY = "tests_for"
TESTS_FOLDER = "tests"


@dataclass
class _Group:
    """A policy to test and where its cases come from."""

    path: Path
    inline: bool = False                # the policy file's own `tests:`
    test_files: list[Path] = field(default_factory=list)


def _yaml_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix in POLICY_SUFFIXES
                      and p.is_file() and not p.name.startswith("."))
    except OSError:
        return []


def _read_doc(path: Path) -> Document:
    return load_document(read_policy_file(path), display_name(path))


def _test_file_doc(path: Path) -> Document | None:
    """The document of a test file (a YAML mapping with `tests_for:`), else None."""
    try:
        doc = _read_doc(path)
    except PolicyError:
        return None
    return doc if isinstance(doc.data, dict) and TEST_FILE_KEY in doc.data else None


def _test_file_schema() -> dict:
    # jsonschema: only when there is a test file to validate
    from ...policy.schema import policy_schema

    full = policy_schema()
    return {"$schema": full.get("$schema"), "$defs": full["$defs"], "type": "object",
            "additionalProperties": False, "required": [TEST_FILE_KEY, "tests"],
            "properties": {TEST_FILE_KEY: {"type": "string", "minLength": 1},
                           "tests": {"type": "array",
                                     "items": {"$ref": "#/$defs/test_case"}},
                           "notes": {"type": "string"}}}


def validate_test_file(doc: Document) -> list[Diagnostic]:
    """Schema problems of a test file, located as `regime check` locates a policy's."""
    import jsonschema

    from ...policy import schema as policy_schema   # jsonschema, as above

    schema = _test_file_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    report = Reporter(doc.source)
    seen = set()
    for error in validator.iter_errors(doc.data):
        for leaf in policy_schema._leaves(error):
            path = tuple(leaf.absolute_path)
            message, at_key, key, hint = policy_schema._message(leaf)
            if (path, message) in seen:
                continue
            seen.add((path, message))
            pos = doc.key(path + (key,)) if key is not None else (
                doc.key(path) if at_key else doc.pos(path))
            report.error(message.replace("the policy", "the test file"), pos, code=codes.SCHEMA,
                         hint=hint)
    return report.diagnostics


def test_file_target(doc: Document, path: Path, dirs: Sequence[Path]) -> Path:
    """The policy file a test file's `tests_for:` names: an id (looked up beside the tests
    folder first) or a path relative to the test file."""

    ref = str(doc.data[TEST_FILE_KEY])
    here = path.parent
    try:
        return find_policy(ref, [here.parent, here] + list(dirs), relative_to=here)
    except PolicyError as e:
        raise PolicyError(Diagnostic(f"{TEST_FILE_KEY}: {e.diagnostics[0].message}",
                                     file=doc.source.file, pos=doc.pos((TEST_FILE_KEY,)),
                                     code=codes.TEST_FILE,
                                     source_line=doc.source.line(
                                         doc.pos((TEST_FILE_KEY,)).line))) from None


def discover(refs: Sequence[str], dirs: Sequence[Path]) -> tuple[list[_Group], list[Diagnostic]]:
    """The policies to test for command-line references (ids, policy files, test files,
    folders; every policy in `dirs` when there are none), with their test files."""

    groups: dict[Path, _Group] = {}
    problems: list[Diagnostic] = []

    def group(path: Path) -> _Group:
        key = path.resolve()
        if key not in groups:
            groups[key] = _Group(path)
        return groups[key]

    def add_test_file(path: Path, only_for: Path | None = None) -> None:
        doc = _test_file_doc(path)
        if doc is None:
            return
        try:
            target = test_file_target(doc, path, dirs)
        except PolicyError as e:
            if only_for is None:
                problems.extend(e.diagnostics)
            return
        if only_for is not None and target.resolve() != only_for.resolve():
            return
        g = group(target)
        if path.resolve() not in {f.resolve() for f in g.test_files}:
            g.test_files.append(path)

    def add_policy(path: Path) -> None:
        group(path).inline = True
        for f in _yaml_files(path.parent / TESTS_FOLDER):
            add_test_file(f, only_for=path)

    def add_folder(folder: Path) -> None:
        for f in _yaml_files(folder):
            if _test_file_doc(f) is not None:
                add_test_file(f)
            else:
                add_policy(f)
        for f in _yaml_files(folder / TESTS_FOLDER):
            add_test_file(f)

    if not refs:
        for info in list_policies(dirs):
            add_policy(info.path)
    for ref in refs:
        p = Path(ref)
        if p.is_dir():
            add_folder(p)
        elif p.is_file() and _test_file_doc(p) is not None:
            add_test_file(p)
        elif p.is_file():
            add_policy(p)
        else:
            try:
                add_policy(find_policy(ref, dirs))
            except PolicyError as e:
                problems.extend(e.diagnostics)
    return list(groups.values()), problems


def run_group(g: _Group, dirs: Sequence[Path], *, kernel: bool = True) -> PolicyResult:
    """Load and check a group's policy, then run the cases of its file and test files."""

    name = display_name(g.path)
    try:
        checked = check(read_policy(g.path, dirs=dirs))
    except RegimeError as e:
        return PolicyResult(g.path.stem, name, diagnostics=list(e.diagnostics))
    p = checked.policy
    result = PolicyResult(p.id, p.file)
    docs: list[Document] = []
    if g.inline:
        docs.append(load_document(p.origin.text, p.origin.file))
    for f in g.test_files:
        try:
            doc = _read_doc(f)
        except PolicyError as e:
            result.diagnostics += e.diagnostics
            continue
        problems = validate_test_file(doc)
        if problems:
            result.diagnostics += problems
            continue
        docs.append(doc)
    result.cases, result.coverage = run_cases(checked, docs, kernel=kernel)
    return result


def run_tests(refs: Sequence[str] = (), *, policy_path: Sequence[str] = (),
              kernel: bool = True) -> tuple[list[PolicyResult], list[Diagnostic]]:
    """Run the test cases of the policies `refs` names (all known policies by default)."""

    dirs = search_path(policy_path)
    groups, problems = discover(refs, dirs)
    return [run_group(g, dirs, kernel=kernel) for g in groups], problems
