"""Find policy files, load them (document -> schema -> build) and resolve `extends`.

A policy is named on the command line by id (`oversight2021`, found in the search path) or by
path. The search path is `--policy-path` entries, then $REGIME_POLICY_PATH, then the bundled
`policies/` folder.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from .. import codes
from ..diagnostics import Diagnostic, PolicyError, Pos, Reporter, Source, did_you_mean
from ..files import POLICY, read_input
from .model import Policy

if TYPE_CHECKING:
    from ..lang.parser import NodeIds
    from .build import Overlay

ENV_POLICY_PATH = "REGIME_POLICY_PATH"
MAX_EXTENDS_DEPTH = 32    # files in one `extends` chain; real chains are two or three long
POLICY_SUFFIXES = (".yaml", ".yml")

ReadText = Callable[[Path], str]


def bundled_policies_dir() -> Path:
    """The policies shipped with regime: the repository's policies/ folder (source checkouts and
    editable installs) or the copy installed as the package `rulesengine.policies` (wheels)."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "policies"
    if installed.is_dir():
        return installed
    return here.parent / "policies"


def search_path(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Folders searched for policies by id, in order."""
    dirs = [Path(p) for p in extra]
    env = os.environ.get(ENV_POLICY_PATH, "")
    dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs.append(bundled_policies_dir())
    return dirs


def display_name(path: Path) -> str:
    """How a file is named in messages: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _policy_files(folder: Path) -> list[Path]:
    try:
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir()
                      if p.suffix in POLICY_SUFFIXES and is_file(p) and not p.name.startswith("."))
    except (OSError, ValueError):
        return []


def is_file(path: Path) -> bool:
    """Path.is_file, but False (not an exception) for names the OS refuses outright: too
    long, or holding a NUL byte. A reference comes from an untrusted policy file."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


@dataclass
class Resolution:
    """What loading a policy depended on: each file read, with the SHA-256 of the text used,
    and each path searched for an `extends` parent and found absent (a file created there
    later changes which parent is meant). The policy cache keys its entries on this."""

    read: list[tuple[str, str]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)

    def add_read(self, path: Path, text: str) -> None:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        self.read.append((os.path.abspath(path), digest))


def looks_like_path(ref: str) -> bool:
    return os.sep in ref or "/" in ref or ref.endswith(POLICY_SUFFIXES)


def find_policy(ref: str, dirs: Sequence[Path], relative_to: Path | None = None,
                absent: list[str] | None = None, exists: Callable[[Path], bool] = is_file) -> Path:
    """The file a policy reference names: a path, or an id looked up in `dirs`. Each candidate
    tried and found absent before the answer is appended to `absent`; `exists` says whether a
    file is there (on disk, or at a git revision)."""
    if looks_like_path(ref):
        path = Path(ref)
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        if exists(path) or (exists is is_file and _exists(path)):
            # on disk, a pipe, device or folder is returned too: the guarded read says why
            return path
        # Suggest a file of the same folder, written the way the author wrote the path.
        name = Path(ref).name
        close = difflib.get_close_matches(name, [p.name for p in _policy_files(path.parent)],
                                          n=1, cutoff=0.6)
        suggestion = f"; did you mean '{ref[:len(ref) - len(name)]}{close[0]}'?" if close else ""
        raise PolicyError(f"no policy file at '{ref}'{suggestion}")
    for folder in dirs:
        for suffix in POLICY_SUFFIXES:
            candidate = folder / f"{ref}{suffix}"
            if exists(candidate):
                return candidate
            if absent is not None:
                absent.append(os.path.abspath(candidate))
    known = [p.stem for folder in dirs for p in _policy_files(folder)]
    raise PolicyError(f"no policy named '{ref}' (looked in {', '.join(map(display_name, dirs))})"
                      f"{did_you_mean(ref, known)}")


@dataclass(frozen=True)
class PolicyInfo:
    id: str
    title: str
    version: str
    path: Path


def list_policies(dirs: Sequence[Path]) -> list[PolicyInfo]:
    """Every policy file in `dirs`, first occurrence of an id winning (as in lookup)."""
    seen: set[str] = set()
    out: list[PolicyInfo] = []
    for folder in dirs:
        for path in _policy_files(folder):
            try:
                # yaml: only to list policies; loading one from the checked-policy cache never needs it
                from .document import load_document

                doc = load_document(read_policy_file(path), display_name(path))
                data = doc.data if isinstance(doc.data, dict) else {}
            except (PolicyError, OSError, UnicodeDecodeError):
                data = {}
            pid = str(data.get("policy", path.stem))
            if path.stem in seen:
                continue
            seen.add(path.stem)
            out.append(PolicyInfo(pid, str(data.get("title", "")), str(data.get("version", "")),
                                  path))
    return out


def read_policy_file(path: Path) -> str:
    """A policy file's text, refused with a PolicyError when it is not a regular file within
    the size limit or not UTF-8 (the line and column of the first bad byte)."""

    name = display_name(path)
    # Refused before reading: a pipe, a device, a folder, a file over the size limit.
    data = read_input(path, limit=POLICY, shown=name, error=PolicyError)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        good = data[:e.start].decode("utf-8")
        line = good.count("\n") + 1
        col = len(good) - (good.rfind("\n") + 1) + 1
        raise PolicyError(Diagnostic(f"the file is not UTF-8 text ({e.reason} at byte "
                                     f"{e.start})", file=name, pos=Pos(line, col),
                                     code=codes.ENCODING)) from None


def read_policy(ref: str | os.PathLike, *, dirs: Sequence[Path] | None = None,
                read_text: ReadText = read_policy_file, ids: NodeIds | None = None,
                resolution: Resolution | None = None, exists: Callable[[Path], bool] = is_file,
                show: Callable[[Path], str] = display_name,
                _chain: tuple[Path, ...] = ()) -> Policy:
    """Load a policy by id or path and resolve what it extends; not yet type-checked."""
    dirs = list(dirs) if dirs is not None else search_path()
    path = Path(ref) if isinstance(ref, os.PathLike) else find_policy(str(ref), dirs,
                                                                      exists=exists)
    return load_policy_text(read_text(path), path, dirs=dirs, read_text=read_text, ids=ids,
                            resolution=resolution, exists=exists, show=show, _chain=_chain)


def load_policy_text(text: str, path: Path, *, dirs: Sequence[Path] | None = None,
                     read_text: ReadText = read_policy_file, ids: NodeIds | None = None,
                     name: str | None = None, resolution: Resolution | None = None,
                     exists: Callable[[Path], bool] = is_file,
                     show: Callable[[Path], str] = display_name,
                     _chain: tuple[Path, ...] = ()) -> Policy:
    """Load a policy from its text; `path` locates files it extends, `name` is shown in messages,
    `resolution` (when given) records the files read and the paths searched in vain, and
    `exists`, `read_text` and `show` say where files are looked for and how they are named
    (the disk, or a git revision)."""
    # imported here, not at the top: a warm run takes its checked policy from the cache and
    # never needs YAML, JSON Schema or Lark
    from ..lang.parser import NodeIds
    from . import schema
    from .build import build_overlay
    from .document import load_document

    dirs = list(dirs) if dirs is not None else search_path()
    ids = ids or NodeIds()
    if resolution is not None:
        resolution.add_read(path, text)

    doc = load_document(text, name or show(path))
    report = Reporter(doc.source)
    if not isinstance(doc.data, dict):
        report.error("a policy file must be a mapping of keys (policy:, levels:, rules:, ...)",
                     doc.pos(()), code=codes.SCHEMA)
        report.raise_if_errors()
    report.diagnostics.extend(schema.validate(doc))
    report.raise_if_errors()
    overlay = build_overlay(doc, report, ids)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()

    parent: Policy | None = None
    extends = doc.data.get("extends")
    if extends is not None:
        resolved = path.resolve()
        chain = _chain + (resolved,)
        if len(chain) > MAX_EXTENDS_DEPTH:
            report.error(f"extends goes more than {MAX_EXTENDS_DEPTH} files deep",
                         doc.pos(("extends",)), code=codes.TOO_DEEP)
            report.raise_if_errors()
        # An id is looked up beside this file first: a policy and the one it amends usually
        # sit in the same folder, whether or not that folder is on the search path.
        here = path.parent
        lookup = [here] + [d for d in dirs if Path(d).resolve() != here.resolve()]
        try:
            parent_path = find_policy(extends, lookup, relative_to=here,
                                      absent=resolution.absent if resolution else None,
                                      exists=exists)
        except PolicyError as e:
            report.error(e.diagnostics[0].message.replace("no policy", "extends: no policy", 1),
                         doc.pos(("extends",)), code=codes.EXTENDS)
            report.raise_if_errors()
            raise
        if parent_path.resolve() in chain:
            names = " -> ".join(display_name(p) for p in chain + (parent_path.resolve(),))
            report.error(f"extends makes a cycle: {names}", doc.pos(("extends",)),
                         code=codes.EXTENDS_CYCLE)
            report.raise_if_errors()
        try:
            parent = read_policy(parent_path, dirs=dirs, read_text=read_text, ids=ids,
                                 resolution=resolution, exists=exists, show=show,
                                 _chain=chain)
        except PolicyError as e:
            # The parent's own problems, then a note here saying why that file was read.
            report.error(f"the policy this one extends ('{extends}') has errors",
                         doc.pos(("extends",)), code=codes.EXTENDS)
            raise PolicyError(e.diagnostics + report.diagnostics) from None
        digest = hashlib.sha256((digest + parent.content_hash).encode()).hexdigest()

    policy = _merge(doc.data, overlay, parent, doc.source, digest, report, doc.pos, doc.key)
    report.raise_if_errors()
    return replace(policy, files=(doc.source.file,) + (parent.files if parent else ()))


def _merge(data: dict, ov: Overlay, parent: Policy | None, src: Source, digest: str,
           report: Reporter, pos_of, key_of) -> Policy:
    def pick(key, default=None):
        if key in data:
            return data[key]
        return getattr(parent, key) if parent is not None else default

    # A rule with a parent's id replaces it in place; others are appended. A second rule with
    # the same id in this file is kept, for the checker to report beside the other errors.
    rules = list(parent.rules) if parent else []
    inherited = {r.id: i for i, r in enumerate(rules)}
    own: set[str] = set()
    for rule in ov.rules:
        if rule.id in inherited and rule.id not in own:
            rules[inherited[rule.id]] = rule
        else:
            rules.append(rule)
        own.add(rule.id)
    for rule_id, pos in ov.removed_rules:
        if rule_id not in {r.id for r in rules}:
            report.error(f"cannot remove rule '{rule_id}': "
                         + ("the policy it extends has no such rule" if parent else
                            "'remove' is only for policies that extend another")
                         + did_you_mean(rule_id, [r.id for r in rules]), pos, code=codes.EXTENDS)
        rules = [r for r in rules if r.id != rule_id]

    effective = data.get("effective", {})
    return Policy(
        id=data["policy"],
        title=str(data.get("title", parent.title if parent else data["policy"])),
        version=str(data.get("version", parent.version if parent else "")),
        effective_from=effective.get("from", parent.effective_from if parent else None),
        effective_to=effective.get("to", parent.effective_to if parent else None),
        sources=tuple(_source_text(s) for s in data["sources"]) if "sources" in data
        else (parent.sources if parent else ()),
        entity=_kinds(pick("entity")),
        # fy_quarter: quarters, written as NHS financial-year quarters (2025/26 Q3) in outputs
        period="quarter" if data.get("period") == "fy_quarter" else pick("period"),
        period_labels=("nhs" if data.get("period") == "fy_quarter" else None) if "period" in data
        else (parent.period_labels if parent else None),
        peer_group=pick("peer_group", "type"),
        applies_to=ov.applies_to or (parent.applies_to if parent else None),
        levels=ov.levels if ov.levels is not None else (parent.levels if parent else ()),
        default=pick("default"),
        default_pos=pos_of(("default",)) if "default" in data else (
            parent.default_pos if parent else None),
        decide=pick("decide", "worst"),
        scales={**(parent.scales if parent else {}), **ov.scales},
        params={**(parent.params if parent else {}), **ov.params},
        inputs={**(parent.inputs if parent else {}), **ov.inputs},
        defines={**(parent.defines if parent else {}), **ov.defines},
        rules=tuple(rules),
        timetable=ov.timetable or (parent.timetable if parent else None),
        tests=tuple(data.get("tests", ())),
        extends=data.get("extends"),
        origin=src,
        files=(),
        content_hash=digest,
        pos=key_of(("policy",)) or Pos(1, 1),
        peer_group_pos=pos_of(("peer_group",)) if "peer_group" in data else (
            parent.peer_group_pos if parent else None),
        peer_groups={g: tuple(v) for g, v in data["peer_groups"].items()}
        if "peer_groups" in data else (parent.peer_groups if parent else None),
    )


def _kinds(entity) -> tuple[str, ...] | None:
    if entity is None or isinstance(entity, tuple):
        return entity
    return (entity,) if isinstance(entity, str) else tuple(entity)


def _source_text(s) -> str:
    if isinstance(s, str):
        return s
    text = s["title"]
    if s.get("url"):
        text += f" <{s['url']}>"
    return text
