#!/usr/bin/env python3
"""Writes the binary seeds of the fuzz corpus (Tests/Fuzz/corpus/{media,tar,zip,multipart}): small, valid files
of each format, and the shapes the parsers must refuse cleanly (ZIP64 sizes, GNU long names, pax paths).
Media seeds come from ffmpeg (tiny pictures, sounds and movies), cut to their first 2 KB where only the header
matters. Run once; the files are kept in the repository. Usage: make_seeds.py [CORPUS_DIR]"""
import io, os, struct, subprocess, sys, tarfile, tempfile, zipfile, zlib

corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")

def put(target, name, data):
    os.makedirs(os.path.join(corpus, target), exist_ok=True)
    with open(os.path.join(corpus, target, name), "wb") as f:
        f.write(data)

# --- media: ffmpeg's tiny files, headers first
ffmpeg = {
    "png": "-f lavfi -i color=red:s=8x8 -frames:v 1", "jpg": "-f lavfi -i color=blue:s=8x8 -frames:v 1",
    "gif": "-f lavfi -i color=green:s=8x8 -frames:v 2", "bmp": "-f lavfi -i color=red:s=4x4 -frames:v 1",
    "webp": "-f lavfi -i color=red:s=8x8 -frames:v 1", "wav": "-f lavfi -i sine=d=0.01", "flac": "-f lavfi -i sine=d=0.01",
    "ogg": "-f lavfi -i sine=d=0.01 -c:a libvorbis", "opus": "-f lavfi -i sine=d=0.02 -c:a libopus",
    "mp3": "-f lavfi -i sine=d=0.03", "aac": "-f lavfi -i sine=d=0.03 -c:a aac -f adts",
    "mp4": "-f lavfi -i color=red:s=16x16:d=0.04 -f lavfi -i sine=d=0.04 -c:v libx264 -c:a aac -movflags +faststart -shortest",
    "mov": "-f lavfi -i color=red:s=16x16:d=0.04 -c:v libx264 -movflags +faststart",
    "m4a": "-f lavfi -i sine=d=0.03 -c:a aac -movflags +faststart",
    "mkv": "-f lavfi -i color=red:s=16x16:d=0.04 -c:v libx264", "webm": "-f lavfi -i color=red:s=16x16:d=0.04 -c:v libvpx",
    "avi": "-f lavfi -i color=red:s=16x16:d=0.04 -c:v mjpeg", "mpg": "-f lavfi -i color=red:s=16x16:d=0.04 -c:v mpeg2video -f vob",
    "ts": "-f lavfi -i color=red:s=16x16:d=0.04 -c:v mpeg2video -f mpegts",
}
with tempfile.TemporaryDirectory() as tmp:
    for ext, args in ffmpeg.items():
        out = os.path.join(tmp, "tiny." + ext)
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args.split(), out], check=True)
        data = open(out, "rb").read()
        if ext not in ("mp4", "mov", "m4a"):  # the ISO ones need their whole moov
            data = data[:2048]
        put("media", "tiny." + ext, data)
    jpg = open(os.path.join(tmp, "tiny.jpg"), "rb").read()

# A JPEG turned by EXIF (orientation 6), little-endian TIFF: APP1 right after SOI.
tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 1, 6) + struct.pack("<I", 0)
app1 = b"Exif\x00\x00" + tiff
put("media", "exif-orientation6.jpg", jpg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpg[2:])
# WebP lossless and extended headers, by hand (the sniffer reads only these bytes).
put("media", "vp8l.webp", b"RIFF" + struct.pack("<I", 26) + b"WEBPVP8L" + struct.pack("<I", 10) + b"\x2f" + struct.pack("<I", (7 << 14) | 7) + b"\x00" * 6)
put("media", "vp8x.webp", b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8X" + struct.pack("<I", 10) + b"\x00" * 4 + (7).to_bytes(3, "little") + (7).to_bytes(3, "little") + b"\x00" * 4)
# An ISO box with a 64-bit size (size field 1), then moov: where a size near 2^63 would overflow an offset.
moov = struct.pack(">I", 8) + b"moov"
put("media", "largesize.mp4", struct.pack(">I", 1) + b"ftyp" + struct.pack(">Q", 24) + b"isom\x00\x00\x00\x00" + moov)
# RF64 (a WAV past 4 GB): sizes live in a ds64 chunk.
put("media", "rf64.wav", b"RF64" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"ds64" + struct.pack("<I", 28) + struct.pack("<QQQI", 100, 64, 16, 0)
    + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", 0xFFFFFFFF))

# --- tar: ustar, a folder, GNU long name, pax path (trailing zero records trimmed to the two end blocks)
def tar_bytes(fmt, entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue().rstrip(b"\x00")
    blocks = (len(raw) + 511) // 512
    return raw.ljust(blocks * 512, b"\x00") + b"\x00" * 1024

manifest = b"scenes:\n  - narration: Hello.\n    image: a.png\n"
put("tar", "ustar.tar", tar_bytes(tarfile.USTAR_FORMAT, [("job", None), ("job/manifest.yaml", manifest), ("job/a.png", b"\x89PNG")]))
put("tar", "gnu-longname.tar", tar_bytes(tarfile.GNU_FORMAT, [("d/" + "n" * 120 + ".yaml", manifest)]))
put("tar", "pax-path.tar", tar_bytes(tarfile.PAX_FORMAT, [("p/" + "x" * 110 + "/manifest.yaml", manifest)]))

# --- zip: stored and deflated entries, Python's ZIP64 local headers, and a hand-made ZIP64 archive whose central
# directory carries the sizes in the ZIP64 extra field (tag 0x0001): the field a 2^63 size overflowed (issue 23).
def zip_bytes(entries, zip64=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, method in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            with z.open(info, "w", force_zip64=zip64) as f:
                f.write(data)
    return buf.getvalue()

put("zip", "stored-deflated.zip", zip_bytes([("manifest.yaml", manifest, zipfile.ZIP_STORED), ("a.png", b"\x89PNG" * 8, zipfile.ZIP_DEFLATED), ("d/", b"", zipfile.ZIP_STORED)]))
put("zip", "zip64-local.zip", zip_bytes([("manifest.yaml", manifest, zipfile.ZIP_STORED), ("b.txt", b"b", zipfile.ZIP_STORED)], zip64=True))

def zip64_central(entries, offset_in_extra=False, declared=None):
    """Every entry's sizes and offset at 0xFFFFFFFF in the headers, the real values in ZIP64 extra fields;
    then a ZIP64 end record, its locator and the classic end record."""
    out, central = b"", b""
    for name, data in entries:
        name = name.encode()
        crc = zlib.crc32(data)
        offset = len(out)
        local_extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(local_extra)) + name + local_extra + data
        if offset_in_extra:
            extra, header_offset = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset), 0xFFFFFFFF
        else:
            extra, header_offset = struct.pack("<HHQQ", 1, 16, declared or len(data), len(data)), offset
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(name), len(extra), 0, 0, 0, 0, header_offset) + name + extra
    cd_offset = len(out)
    out += central
    eocd64_offset = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries), len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64_offset, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return out

# Sizes in the ZIP64 extra field, the entry's offset in its header: the seed the fuzzer mutates towards 2^63 sizes.
put("zip", "zip64-central.zip", zip64_central([("manifest.yaml", manifest), ("a.png", b"\x89PNG")]))
# The offset in the extra field too (valid, as any archive past 4 GB has it): ZIPFoundation's in-memory reader traps
# on it (Range requires lowerBound <= upperBound, Archive+MemoryFile.swift:59), so Archive.unzip does: a crash to fix.
put("zip", "crash-zip64-offset-in-extra.zip", zip64_central([("manifest.yaml", manifest), ("a.png", b"\x89PNG")], offset_in_extra=True))

# Issue 23's reproduction: two entries declaring 2^63 bytes each; their sum overflows UInt64 (Archive.swift:79).
put("zip", "crash-zip64-sizes-2e63.zip", zip64_central([("manifest.yaml", manifest), ("a.png", b"\x89PNG")], declared=1 << 63))

# --- multipart: the first line is the Content-Type header, the rest the body
def form(boundary, parts):
    body = b""
    for headers, data in parts:
        body += b"--" + boundary + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + data + b"\r\n"
    return body + b"--" + boundary + b"--\r\n"

put("multipart", "manifest-and-asset.txt", b"multipart/form-data; boundary=XyZ\n" + form(b"XyZ", [
    ([b'Content-Disposition: form-data; name="manifest"; filename="manifest.yaml"', b"Content-Type: application/yaml"], manifest),
    ([b'Content-Disposition: form-data; name="file"; filename="a.png"'], b"\x89PNG\r\n\x1a\n"),
    ([b'Content-Disposition: form-data; name="name"'], b"job-1"),
]))
put("multipart", "quoted-boundary.txt", b'multipart/form-data; charset=utf-8; boundary="a b;c"\n' + form(b"a b;c", [
    ([b'content-disposition: form-data; name=manifest; filename="m\\"x.json"'], b'{"scenes": ["hi"]}'),
]))
