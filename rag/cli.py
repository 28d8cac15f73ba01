"""The ``rag`` command: index, ask, speakers, chat, ui, eval, models.

A thin shell over the public API (``rag.Assistant``). Errors from ``rag``
become one line on stderr and exit code 2 here, at the boundary; nothing
below this module prints. Heavy libraries are imported only by the
subcommand that needs them, so ``rag --help`` is instant and ``rag ask`` does
not pay for Gradio. Progress bars go to stderr, and only when stderr is a
terminal or ``--progress`` asks, so stdout (``--json``) stays clean.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

# Models come inside packages; nothing may reach a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _settings(args):
    from rag.settings import Settings

    return Settings.from_args(args)


def _assistant(args):
    from rag.assistant import Assistant

    return Assistant(settings=_settings(args))


class _Bars:
    """Progress bars on stderr, one per indexing stage (``rag.index.ProgressFn``)."""

    _LABELS = {"reading": ("reading", "file"), "analysing": ("analysing", "doc"), "embedding": ("embedding", "passage")}

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.bars: dict = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            desc, unit = self._LABELS.get(stage, (stage, "item"))
            bar = self.bars[stage] = tqdm(total=total, desc=f"{desc:<9}", unit=unit, file=self.stream,
                                          dynamic_ncols=True, mininterval=0.2)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def _show_progress(args, settings) -> bool:
    """Bars only where a person watches (stderr is a terminal) or when asked (--progress)."""
    if args.progress is not None:
        return args.progress
    return settings.index.show_progress and sys.stderr.isatty()


def cmd_index(args) -> int:
    from rag.index import open_index
    from rag.speakers import collect_speakers

    # `rag index PATHS` is --docs without the word: both pick the documents.
    args.docs = (args.paths or []) + (args.docs or [])
    settings = _settings(args)
    paths = list(settings.docs)
    if args.rebuild and settings.index.backend == "milvus":
        from rag.milvus import drop

        drop(settings, paths)
    bars = _Bars() if _show_progress(args, settings) else None
    t0 = time.perf_counter()
    try:
        # --rebuild swaps a new index in like any update: killed midway, the old one is still there.
        index = open_index(settings, paths, progress=False, on_progress=bars, rebuild=args.rebuild)
    finally:
        if bars is not None:
            bars.close()
    total = time.perf_counter() - t0
    for warning in index.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    t = index.timings
    speakers = collect_speakers(index.documents, index.attributed_passages(), index.people)
    statements = [st for sp in speakers for st in sp.statements]
    quotations = sum(1 for st in statements if st.quoted)
    print(f"documents: {len(index.documents)}  passages: {len(index.passages)}  newly embedded: {int(t.get('embedded', 0))}")
    print(f"quotations: {quotations}  reported statements: {len(statements) - quotations}  speakers: {len(speakers)}"
          "  (`rag speakers` lists them)")
    if t.get("embedded"):
        print(
            f"model load: {t.get('model_load_s', 0):.2f} s  parse+attribute: {t.get('parse_s', 0):.2f} s  "
            f"embedding: {t.get('embed_s', 0):.2f} s  total: {total:.2f} s"
        )
    else:
        print(f"reopened without re-embedding in {total:.2f} s")
    if index.warnings:
        n = len(index.warnings)
        print(f"skipped: {n} file{'s' if n != 1 else ''} (warnings on stderr)")
    print(f"index: {index.engine.location if index.engine is not None else index.directory}")
    return 0


def _print_answer(answer, stream=sys.stdout) -> None:
    badge = {"generated": "generated", "extractive": "extractive (quoted from the documents)", "refused": "not in the documents"}[answer.mode]
    print(answer.text, file=stream)
    print(f"\n[{badge}]" + (f"  {answer.notice}" if answer.notice else ""), file=stream)
    for c in answer.citations:
        who = f"{c.speaker} — " if c.speaker else ""
        # The quote is printed as it stands in the source (it often has its own quote marks).
        print(f"  [{c.marker}] {who}{c.source}:{c.start}-{c.end}\n      {' '.join(c.quote.split())}", file=stream)


def cmd_ask(args) -> int:
    assistant = _assistant(args)
    question = " ".join(args.question)
    if args.json:
        answer = assistant.ask(question)
        print(json.dumps(answer.to_json(), ensure_ascii=False))
        return 0
    from rag.types import Answer

    streamed = False
    for item in assistant.stream(question):
        if isinstance(item, Answer):
            if streamed:
                print("\n\nVerified answer:")
            _print_answer(item)
        elif args.show_draft:
            streamed = True
            print(item, end="", flush=True)
    return 0


def cmd_chat(args) -> int:
    from rag.errors import RagError
    from rag.types import Answer

    assistant = _assistant(args)
    session = assistant.chat()
    print("Ask about the documents. /reset starts over, /quit (or Ctrl-D) leaves.")
    while True:
        try:
            question = input("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if question in {"/quit", "/exit"}:
            return 0
        if question == "/reset":
            session.reset()
            print("(new conversation)")
            continue
        if not question:
            continue
        try:
            for item in session.stream(question):
                if isinstance(item, Answer):
                    if item.resolved_question:
                        print(f"(understood as: {item.resolved_question})")
                    print("assistant> ", end="")
                    _print_answer(item)
        except RagError as exc:
            print(f"error: {exc}", file=sys.stderr)


def _format_speaker(speaker) -> str:
    lines = [speaker.name + (f" — {'; '.join(speaker.roles)}" if speaker.roles else "")
             + ("" if speaker.kind == "person" else "  (organisation or group)")]
    if speaker.organisations:
        lines.append(f"  organisation: {'; '.join(speaker.organisations)}")
    for n, st in enumerate(speaker.statements, 1):
        where = f"{st.source}:{st.start}-{st.end}" + (f" p. {st.page}" if st.page else "")
        kind = "quote" if st.quoted else "reported"
        lines.append(f"  [{n}] {where} ({kind})\n      {' '.join(st.text.split())}")
    return "\n".join(lines)


def cmd_speakers(args) -> int:
    speakers = _assistant(args).speakers(args.doc)
    if args.json:
        print(json.dumps([s.to_json() for s in speakers], ensure_ascii=False))
        return 0
    if not speakers:
        print("No speakers found: no sentence in these documents is attributed to anyone.")
        return 0
    statements = sum(len(s.statements) for s in speakers)
    print(f"{len(speakers)} speakers, {statements} statements" + (f" in {args.doc}" if args.doc else "") + "\n")
    print("\n\n".join(_format_speaker(s) for s in speakers))
    return 0


def cmd_ui(args, rest) -> int:
    from ui.app import main as ui_main

    return ui_main(rest) or 0


def cmd_eval(args, rest) -> int:
    from eval.runner import main as eval_main

    return eval_main(rest) or 0


def cmd_models(args, rest) -> int:
    from rag.models import main as models_main

    return models_main(rest) or 0


def build_parser() -> argparse.ArgumentParser:
    from rag.settings import add_settings_options

    parser = argparse.ArgumentParser(prog="rag", description="Ask questions about your documents; every claim is cited.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build or update the index of the documents")
    p.add_argument("paths", nargs="*", help="files or folders (default: seeds/ or RAG_DOCS)")
    p.add_argument("--rebuild", action="store_true", help="discard the stored index and embed everything again")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars on stderr (default: only when stderr is a terminal)")
    add_settings_options(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="+")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--show-draft", action="store_true", help="stream the model's draft before the verified answer")
    add_settings_options(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("speakers", help="who said what: every speaker, their roles and statements")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    p.add_argument("--doc", metavar="SOURCE", help="only this document (its source id, or a unique end of it)")
    add_settings_options(p)
    p.set_defaults(func=cmd_speakers)

    p = sub.add_parser("chat", help="a conversation in the terminal (follow-up questions work)")
    add_settings_options(p)
    p.set_defaults(func=cmd_chat)

    sub.add_parser("ui", help="start the web chat (see `rag ui --help`)", add_help=False)
    sub.add_parser("eval", help="run the eval suite (see `rag eval --help`)", add_help=False)
    sub.add_parser("models", help="list, pull or verify a larger local model (see `rag models --help`)", add_help=False)
    return parser


def main(argv=None) -> int:
    from rag.errors import RagError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        # ui, eval and models own their options; pass everything after the word on.
        passed_on = {"ui": cmd_ui, "eval": cmd_eval, "models": cmd_models}
        if argv and argv[0] in passed_on:
            return passed_on[argv[0]](None, argv[1:])
        args = build_parser().parse_args(argv)
        return args.func(args) or 0
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
