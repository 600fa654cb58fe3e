"""Build synthetic benchmark corpora and query sets for the speed benchmarks.

Documents are made by sampling sentences from the Cranfield abstracts (and, with
``--source mixed``, the seed news articles) with a seeded RNG: each document follows
one "topic" abstract for most of its sentences and borrows the rest from random other
abstracts, so term co-occurrence looks natural while no two documents are alike.
A small fraction of words is replaced by pseudo-words drawn from a Zipf-like
distribution over two million ids: Cranfield alone has ~9k distinct words, a real
80 MB collection has hundreds of thousands, and the size of the term dictionary is
what indexing and query speed depend on.

Every document is generated from its own RNG seeded by (seed, document number), so a
5,000-document corpus is a prefix of the 100,000-document one, and the generator
streams: it never holds more than one document in memory, whatever ``--docs`` is.

Usage:
    python benchmarks/corpus.py build OUT_DIR [--docs 100000] [--source cranfield]
    python benchmarks/corpus.py queries CORPUS_DIR [--out FILE]   # never writes into CORPUS_DIR

``build`` writes OUT_DIR/docs/NNNN/NNNNNNN.txt (title line, blank line, paragraphs
wrapped at 72 columns), OUT_DIR/queries.json and, last, OUT_DIR/manifest.json; a
second ``build`` with the same parameters finds the manifest and does nothing.
``queries`` makes a query set for any directory of .txt files (e.g. the seed corpus).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

GENERATOR_VERSION = 2  # bump when documents change (2: rare words by geometric gaps, same rate)
QUERIES_VERSION = 3  # bump when query sampling changes: queries are remade, documents kept
DEFAULT_SEED = 1400
CRANFIELD_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval" / "cranfield"
SEEDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "seeds"
DOCS_PER_DIR = 1000
WRAP_COLUMNS = 72
MEDIAN_DOC_BYTES = 620  # lognormal, sigma 0.5; with titles and the last sentence overshooting, mean ~850 bytes
RARE_WORD_IDS = 2_000_000

# A plain English stop list: used only to keep query words and phrase edges meaningful.
STOP_WORDS = frozenset(
    """a about above after again against ain all also am an and any are aren as at be because been
    before being below between both but by can cannot could couldn did didn do does doesn doing don
    down during each either else ever few for from further had hadn has hasn have haven having he
    her here hers herself him himself his how however i if in into is isn it its itself just least
    let ll may me might more most must mustn my myself neither no nor not now of off often on once
    only or other ought our ours ourselves out over own rather re same shall shan she should
    shouldn since so some such than that the their theirs them themselves then there therefore
    these they this those though through thus to too under until up upon us ve very was wasn we
    were weren what when where whether which while who whom whose why will with won would wouldn
    yet you your yours yourself yourselves""".split()
)

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]  # 70 syllables
_WORD_RE = re.compile(r"\b[A-Za-z]+(?:-[A-Za-z]+)*\b")  # whole words only: not "10degrees"


# ---------------------------------------------------------------------------
# Source text


@dataclass
class SourceDoc:
    title: str
    sentences: list[str]


def _tidy_sentence(text: str) -> str:
    """Cranfield writes 'word .' and all lower case; make it read like prose."""
    text = " ".join(text.split())
    text = re.sub(r"\s+([.,;:?])", r"\1", text)
    if text and not text.endswith((".", "?", "!")):
        text += "."
    return text[:1].upper() + text[1:]


def read_cranfield(cranfield_dir: Path = CRANFIELD_DIR) -> list[SourceDoc]:
    raw = (cranfield_dir / "cran.all.1400").read_text(encoding="utf-8", errors="replace")
    raw = raw.replace("\r", "")
    docs = []
    for record in re.split(r"^\.I .*\n", raw, flags=re.M)[1:]:
        fields = dict(re.findall(r"^\.([TABW])\n(.*?)(?=^\.[TABW]\n|\Z)", record, flags=re.M | re.S))
        title = _tidy_sentence(fields.get("T", "")).rstrip(".")
        body = " ".join(fields.get("W", "").split())
        # Cranfield ends sentences with ' .'; that is the only reliable splitter here.
        sentences = [_tidy_sentence(s) for s in re.split(r"\s\.(?:\s+|$)", body) if len(s.split()) >= 3]
        if title and sentences:
            docs.append(SourceDoc(title, sentences))
    return docs


def read_text_dir(directory: Path) -> list[SourceDoc]:
    """Plain text files: first line is the title, sentences split at '. ' before a capital."""
    docs = []
    for path in sorted(directory.glob("*.txt")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        if not lines:
            continue
        body = " ".join(" ".join(lines[1:]).split())
        sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", body) if len(s.split()) >= 3]
        if sentences:
            docs.append(SourceDoc(lines[0].strip(), sentences))
    return docs


def read_cranfield_questions(cranfield_dir: Path = CRANFIELD_DIR, min_words=10, max_words=20) -> list[str]:
    raw = (cranfield_dir / "cran.qry").read_text(encoding="utf-8", errors="replace").replace("\r", "")
    questions = []
    for record in re.split(r"^\.I .*\n", raw, flags=re.M)[1:]:
        text = " ".join(record.replace(".W\n", "", 1).split())
        # '?' and '*' are wildcards to query parsers; a question is not meant as one.
        text = re.sub(r"\s*\.$", "", text).replace("?", "").replace("*", "").strip()
        if min_words <= len(text.split()) <= max_words:
            questions.append(text)
    return questions


def load_sources(source: str) -> list[SourceDoc]:
    if source == "cranfield":
        return read_cranfield()
    if source == "seeds":
        return read_text_dir(SEEDS_DIR)
    if source == "mixed":
        return read_cranfield() + read_text_dir(SEEDS_DIR)
    raise ValueError(f"unknown source {source!r} (cranfield, seeds or mixed)")


# ---------------------------------------------------------------------------
# Document generation


def rare_word(word_id: int) -> str:
    """Deterministic pronounceable pseudo-word for an id: base-70 syllables."""
    syllables = []
    n = word_id
    while True:
        n, digit = divmod(n, len(_SYLLABLES))
        syllables.append(_SYLLABLES[digit])
        if n == 0:
            break
    return "".join(syllables) + ("n" if len(syllables) < 2 else "")


def _sprinkle_rare_words(sentence: str, rng: random.Random, rate: float) -> str:
    if rate <= 0:
        return sentence
    words = sentence.split(" ")
    # Geometric gaps between replaced words, not one draw per word: the same Bernoulli(rate)
    # choice for each inner word (first, capitalised, and last, punctuated, are kept), at a
    # few draws per sentence instead of one per word.
    log_keep = math.log1p(-rate) if rate < 1 else None
    i = 0
    while True:
        i += 1 if log_keep is None else 1 + int(math.log(1.0 - rng.random()) / log_keep)
        if i >= len(words) - 1:
            break
        # log-uniform id => P(id) ~ 1/id, a Zipf-like tail of ever rarer words
        words[i] = rare_word(int(RARE_WORD_IDS ** rng.random()))
    return " ".join(words)


_WRAP_RE = re.compile(r"(.{1,%d})(?: +|$)" % WRAP_COLUMNS)


def wrap(text: str, width: int = WRAP_COLUMNS) -> list[str]:
    """Greedy wrapping at spaces; a word longer than the width gets a line of its own."""
    pattern = _WRAP_RE if width == WRAP_COLUMNS else re.compile(r"(.{1,%d})(?: +|$)" % width)
    lines, at = [], 0
    while at < len(text):
        match = pattern.match(text, at)
        if match is None or match.end() == at:  # a word wider than a line
            end = text.find(" ", at)
            end = len(text) if end < 0 else end
            lines.append(text[at:end])
            at = end + 1
            continue
        lines.append(match.group(1))
        at = match.end()
    return lines


@dataclass
class Document:
    number: int
    title: str
    paragraphs: list[str]

    def text(self) -> str:
        body = "\n\n".join("\n".join(wrap(p)) for p in self.paragraphs)
        return f"{self.title}\n\n{body}\n"


def make_document(number: int, sources: list[SourceDoc], seed: int = DEFAULT_SEED, rare_rate: float = 0.015) -> Document:
    rng = random.Random(f"{seed}:{number}")
    topic = sources[rng.randrange(len(sources))]
    target = min(6000, max(150, int(rng.lognormvariate(math.log(MEDIAN_DOC_BYTES), 0.5))))
    sentences, size = [], 0
    position = rng.randrange(len(topic.sentences))
    while size < target:
        if rng.random() < 0.65:
            sentence = topic.sentences[position % len(topic.sentences)]
            position += 1
        else:
            other = sources[rng.randrange(len(sources))]
            sentence = other.sentences[rng.randrange(len(other.sentences))]
        sentence = _sprinkle_rare_words(sentence, rng, rare_rate)
        sentences.append(sentence)
        size += len(sentence) + 1
    paragraphs = []
    while sentences:
        take = rng.randint(2, 5)
        paragraphs.append(" ".join(sentences[:take]))
        sentences = sentences[take:]
    return Document(number, topic.title, paragraphs)


def iter_documents(count: int, sources: list[SourceDoc], seed: int = DEFAULT_SEED, rare_rate: float = 0.015):
    """Stream documents 0..count-1; memory use does not grow with count."""
    for number in range(count):
        yield make_document(number, sources, seed, rare_rate)


def document_path(docs_dir: Path, number: int) -> Path:
    """Where file ``number`` goes: DOCS_PER_DIR files per directory."""
    return docs_dir / f"{number // DOCS_PER_DIR:04d}" / f"{number:07d}.txt"


def file_text(first: int, count: int, sources: list[SourceDoc], seed: int, rare_rate: float,
              sampled: frozenset = frozenset()) -> tuple[str, dict[int, str]]:
    """The text of the file holding documents first .. first+count-1 (one blank line between
    two documents, so each title line is a paragraph of its own) and the texts of those of
    them in ``sampled``."""
    texts, kept = [], {}
    for number in range(first, first + count):
        text = make_document(number, sources, seed, rare_rate).text()
        texts.append(text)
        if number in sampled:
            kept[number] = text
    return "\n".join(texts), kept


def _write_directory(task) -> tuple[int, int, dict[int, str]]:
    """Write one directory's files; return (files, bytes, sampled texts). Runs in a worker."""
    docs_dir, directory, docs, per_file, seed, rare_rate, source, sampled = task
    sources = _worker_sources(source)
    first_file = directory * DOCS_PER_DIR
    files = min(DOCS_PER_DIR, -(-docs // per_file) - first_file)
    folder = os.path.join(docs_dir, f"{directory:04d}")
    os.makedirs(folder, exist_ok=True)
    total, kept = 0, {}
    for number in range(first_file, first_file + files):
        first = number * per_file
        text, sample = file_text(first, min(per_file, docs - first), sources, seed, rare_rate, sampled)
        data = text.encode("utf-8")
        with open(os.path.join(folder, f"{number:07d}.txt"), "wb") as f:
            f.write(data)
        total += len(data)
        kept.update(sample)
    return files, total, kept


_SOURCES: dict[str, list[SourceDoc]] = {}


def _worker_sources(source: str) -> list[SourceDoc]:
    if source not in _SOURCES:
        _SOURCES[source] = load_sources(source)
    return _SOURCES[source]


# ---------------------------------------------------------------------------
# Query sets


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def keyword_candidates(sample_texts: list[str]) -> list[str]:
    """Mid-frequency words of the sample: neither stop-word-like nor hapax noise."""
    df = Counter()
    for text in sample_texts:
        df.update({w.lower() for w in _words(text)})
    n = max(1, len(sample_texts))
    usable = {w: c for w, c in df.items() if len(w) >= 4 and w not in STOP_WORDS and "-" not in w}
    mid = [w for w, c in usable.items() if 0.005 <= c / n <= 0.1 and c >= 2]
    if len(mid) < 20:  # tiny corpora (e.g. 5 seed articles): take what there is
        mid = [w for w, c in usable.items() if c / n <= 0.6] or list(usable)
    return sorted(mid)


def sample_phrase(text: str, rng: random.Random, tries: int = 20) -> str | None:
    """A 2-4 word span that occurs verbatim (modulo whitespace) in text."""
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    for _ in range(tries):
        tokens = sentences[rng.randrange(len(sentences))].split(" ")
        length = rng.randint(2, 4)
        if len(tokens) < length:
            continue
        start = rng.randrange(len(tokens) - length + 1)
        span = tokens[start : start + length]
        if not all(re.fullmatch(r"[A-Za-z]+", t) for t in span):
            continue  # punctuation inside a phrase tests the tokenizer, not the index
        if span[0].lower() in STOP_WORDS or span[-1].lower() in STOP_WORDS:
            continue
        return " ".join(span)
    return None


def make_queries(sample_texts: list[str], questions: list[str], seed: int = DEFAULT_SEED, count: int = 200) -> dict:
    rng = random.Random(f"{seed}:queries")
    candidates = set(keyword_candidates(sample_texts))
    keywords, phrases = [], []
    seen_k, seen_p = set(), set()
    for _ in range(count * 50):
        if len(keywords) >= count and len(phrases) >= count:
            break
        text = sample_texts[rng.randrange(len(sample_texts))]
        if len(keywords) < count:
            # words of one paragraph (~ one passage), so an AND of them has a match
            paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
            paragraph = paragraphs[rng.randrange(len(paragraphs))]
            in_doc = sorted({w.lower() for w in _words(paragraph)} & candidates)
            k = min(len(keywords) % 3 + 1, len(in_doc))
            if k:
                query = " ".join(rng.sample(in_doc, k))
                if query not in seen_k:
                    seen_k.add(query)
                    keywords.append(query)
        if len(phrases) < count:
            phrase = sample_phrase(text, rng)
            if phrase and phrase.lower() not in seen_p:
                seen_p.add(phrase.lower())
                phrases.append(f'"{phrase}"')
    return {"keywords": keywords, "phrases": phrases, "questions": questions[:count]}


def sample_numbers(total: int, wanted: int = 1000) -> list[int]:
    stride = max(1, total // wanted)
    return list(range(0, total, stride))[:wanted]


def queries_for_directory(corpus_dir: Path, seed: int = DEFAULT_SEED, count: int = 200) -> dict:
    paths = sorted(p for p in corpus_dir.rglob("*") if p.is_file() and p.suffix in {".txt", ".md"})
    if not paths:
        raise SystemExit(f"error: no .txt or .md files under {corpus_dir}")
    texts = [paths[i].read_text(encoding="utf-8", errors="replace") for i in sample_numbers(len(paths))]
    return make_queries(texts, read_cranfield_questions(), seed, count)


# ---------------------------------------------------------------------------
# Build


@dataclass
class Manifest:
    generator_version: int
    docs: int
    seed: int
    source: str
    rare_rate: float
    total_bytes: int = 0
    build_seconds: float = 0.0
    queries_version: int = 0
    docs_per_file: int = 1
    files: int = 0


def _same_build(a: Manifest, b: Manifest) -> bool:
    keys = ("generator_version", "docs", "seed", "source", "rare_rate", "docs_per_file")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def read_manifest(out_dir: Path) -> Manifest | None:
    try:
        return Manifest(**json.loads((out_dir / "manifest.json").read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_queries(out_dir: Path, docs: int, sources: list[SourceDoc], seed: int, rare_rate: float,
                  sample_texts: list[str] | None = None) -> None:
    if sample_texts is None:  # regenerate just the sampled documents, in memory
        sample_texts = [make_document(n, sources, seed, rare_rate).text() for n in sample_numbers(docs)]
    queries = make_queries(sample_texts, read_cranfield_questions(), seed)
    (out_dir / "queries.json").write_text(json.dumps(queries, indent=1) + "\n")


def build(out_dir: Path, docs: int, source: str = "cranfield", seed: int = DEFAULT_SEED,
          rare_rate: float = 0.015, progress=None, docs_per_file: int = 1, jobs: int = 1) -> Manifest:
    """Write the corpus. Each document depends only on (seed, number) and each directory is
    written whole by one task, so the files are the same whatever ``jobs`` is."""
    wanted = Manifest(GENERATOR_VERSION, docs, seed, source, rare_rate, docs_per_file=docs_per_file)
    existing = read_manifest(out_dir)
    if existing and _same_build(existing, wanted):
        if existing.queries_version != QUERIES_VERSION:
            write_queries(out_dir, docs, load_sources(source), seed, rare_rate)
            existing.queries_version = QUERIES_VERSION
            (out_dir / "manifest.json").write_text(json.dumps(asdict(existing), indent=1) + "\n")
        return existing
    if (out_dir / "docs").exists() and any((out_dir / "docs").iterdir()):
        # Refuse rather than leave stale documents from a larger build mixed in.
        raise SystemExit(f"error: {out_dir}/docs exists from another build; remove it or pick another OUT_DIR")
    (out_dir / "manifest.json").unlink(missing_ok=True)
    sources = load_sources(source)
    _SOURCES[source] = sources
    docs_dir = out_dir / "docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    sampled = frozenset(sample_numbers(docs))
    directories = -(-(-(-docs // docs_per_file)) // DOCS_PER_DIR)  # ceil(ceil(docs / per file) / per dir)
    tasks = ((str(docs_dir), d, docs, docs_per_file, seed, rare_rate, source,
              frozenset(n for n in sampled if d * DOCS_PER_DIR * docs_per_file <= n < (d + 1) * DOCS_PER_DIR * docs_per_file))
             for d in range(directories))
    started = time.perf_counter()
    files = total = 0
    samples: dict[int, str] = {}
    pool = None
    if jobs > 1:
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(jobs)
        results = pool.imap(_write_directory, tasks)  # in order: progress and samples as with one job
    else:
        results = map(_write_directory, tasks)
    try:
        for done, (count, size, kept) in enumerate(results, 1):
            files += count
            total += size
            samples.update(kept)
            if progress and done % 10 == 0:
                written = min(docs, files * docs_per_file)
                progress(f"{written} documents, {files} files, {total / 1e6:.1f} MB, "
                         f"{time.perf_counter() - started:.0f} s")
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    write_queries(out_dir, docs, sources, seed, rare_rate, [samples[n] for n in sorted(samples)])
    wanted.total_bytes = total
    wanted.files = files
    wanted.build_seconds = round(time.perf_counter() - started, 2)
    wanted.queries_version = QUERIES_VERSION
    (out_dir / "manifest.json").write_text(json.dumps(asdict(wanted), indent=1) + "\n")
    return wanted


# ---------------------------------------------------------------------------
# The replicated test collections: many short real documents, one file each

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"
COLLECTIONS = ("cranfield", "med", "npl", "scifact")
COLLECTIONS_VERSION = 1  # bump when the files written change


def collection_texts(name: str, eval_dir: Path = EVAL_DIR) -> list[tuple[str, str]]:
    """(document id, file text) of a test collection in ../shared/eval: the title line, a
    blank line, the abstract (no title line when it has none), as the relevance benchmark
    writes them."""
    repo = str(Path(__file__).resolve().parents[1])
    if repo not in sys.path:
        sys.path.insert(0, repo)
    from benchmarks.relevance import load_directory

    texts = []
    for document in load_directory(eval_dir / name).documents:
        title = " ".join(document.title.split())
        texts.append((document.doc_id, f"{title}\n\n{document.abstract}\n" if title else f"{document.abstract}\n"))
    return texts


def build_collections(out_dir: Path, replicas: int, names=COLLECTIONS, eval_dir: Path = EVAL_DIR,
                      progress=None) -> dict:
    """Write every document of the named collections ``replicas`` times, one file each:
    OUT_DIR/docs/rNN/COLLECTION/ID.txt, then OUT_DIR/queries.json and, last,
    OUT_DIR/manifest.json; a second build with the same parameters does nothing."""
    wanted = {"collections_version": COLLECTIONS_VERSION, "replicas": replicas, "collections": list(names)}
    try:
        existing = json.loads((out_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        existing = None
    if existing and all(existing.get(k) == v for k, v in wanted.items()):
        return existing
    docs_dir = out_dir / "docs"
    if docs_dir.exists() and any(docs_dir.iterdir()):
        raise SystemExit(f"error: {docs_dir} exists from another build; remove it or pick another OUT_DIR")
    (out_dir / "manifest.json").unlink(missing_ok=True)
    started, files, total, sample = time.perf_counter(), 0, 0, []
    for name in names:
        texts = collection_texts(name, eval_dir)
        sample.extend(text for _, text in texts[:: max(1, len(texts) // 250)])
        for replica in range(replicas):
            folder = docs_dir / f"r{replica:02d}" / name
            folder.mkdir(parents=True, exist_ok=True)
            for doc_id, text in texts:
                data = text.encode("utf-8")
                (folder / f"{doc_id}.txt").write_bytes(data)
                files += 1
                total += len(data)
        if progress:
            progress(f"{name}: {len(texts)} documents x {replicas}; {files} files, {total / 1e6:.1f} MB so far")
    queries = make_queries(sample, read_cranfield_questions())
    (out_dir / "queries.json").write_text(json.dumps(queries, indent=1) + "\n")
    wanted.update(files=files, total_bytes=total, build_seconds=round(time.perf_counter() - started, 2))
    (out_dir / "manifest.json").write_text(json.dumps(wanted, indent=1) + "\n")
    return wanted


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write a synthetic corpus, one .txt per document, plus queries.json")
    b.add_argument("out_dir", type=Path)
    b.add_argument("--docs", type=int, default=100_000)
    b.add_argument("--source", choices=["cranfield", "seeds", "mixed"], default="cranfield")
    b.add_argument("--seed", type=int, default=DEFAULT_SEED)
    b.add_argument("--rare-rate", type=float, default=0.015, help="fraction of words replaced by Zipf-tail pseudo-words")
    b.add_argument("--docs-per-file", type=int, default=1,
                   help="documents written one after another into each file (default 1: a file per document)")
    b.add_argument("--jobs", type=int, default=1, help="processes writing files (the output does not depend on it)")
    q = sub.add_parser("queries", help="write a query set (JSON) for an existing directory of text files")
    q.add_argument("corpus_dir", type=Path)
    q.add_argument("--out", type=Path, help="default: benchmarks/data/queries-<CORPUS_DIR name>.json")
    q.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    try:
        return _run(parser, args)
    except OSError as exc:  # missing Cranfield files, read-only output directory, ...
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 1


def _run(parser, args) -> int:
    if args.command == "build":
        for name in ("docs", "docs_per_file", "jobs"):
            if getattr(args, name) < 1:
                parser.error(f"--{name.replace('_', '-')} must be at least 1")
        say = lambda msg: print(msg, file=sys.stderr, flush=True)
        m = build(args.out_dir, args.docs, args.source, args.seed, args.rare_rate, progress=say,
                  docs_per_file=args.docs_per_file, jobs=args.jobs)
        print(f"{args.out_dir}: {m.docs} documents in {m.files} files, {m.total_bytes / 1e6:.1f} MB "
              f"(built in {m.build_seconds:.1f} s); queries in {args.out_dir / 'queries.json'}")
    else:
        queries = queries_for_directory(args.corpus_dir, args.seed)
        # never into CORPUS_DIR: it may be shared, read-only material or get indexed itself
        out = args.out or Path(__file__).resolve().parent / "data" / f"queries-{args.corpus_dir.resolve().name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(queries, indent=1) + "\n")
        print(f"{out}: " + ", ".join(f"{len(v)} {k}" for k, v in queries.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
