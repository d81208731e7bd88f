#!/usr/bin/env python3
"""Seeds of fuzz_audit_segment in format versions 2 and 3 (sealed chunks, audit/segment_file.h;
3 names the archive key's version in its header),
written by an implementation of the format independent of the server's: a valid file, one
with a chunk altered and one with its last chunk cut off (both signed again, so that the
chunks' own binding is what refuses them). Keys as in fuzz_audit_segment.cc: the signer's
seed is 32 'f' bytes, the archive key 32 'k' bytes. Needs python3-cryptography (run by hand;
the seeds are committed): fuzz/make_sealed_seeds.py fuzz/corpus/audit_segment"""
import gzip, hashlib, os, struct, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import serialization

KEY = b"k" * 32
SIGNER = Ed25519PrivateKey.from_private_bytes(b"f" * 32)
PUBLIC = SIGNER.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
CHUNK = 64 * 1024


def field(b):
    return struct.pack(">I", 0xFFFFFFFF) if b is None else struct.pack(">I", len(b)) + b


def entry(i, erased):
    core = b'{"core":%d}' % i
    leaf = hashlib.sha256(b"\x00" + core).digest()
    return (field(b"default") + struct.pack(">Q", 1000 + i) + field(b"R") + field(b"u%d" % i) +
            field(None if erased else b"patient-%d" % i) + field(core) +
            field(None if erased else os.urandom(40000)) + field(leaf))


def sealed(first, entries, alter=None, cut=False, key_version=None):
    if key_version is None:
        header = b"EHRAUDIT" + struct.pack(">IQQ", 2, first, len(entries)) + b"\x11" * 32
    else:
        header = b"EHRAUDIT" + struct.pack(">IIQQ", 3, key_version, first, len(entries)) + b"\x11" * 32
    stream = gzip.compress(b"".join(entries), compresslevel=6)
    pieces = [stream[i:i + CHUNK] for i in range(0, len(stream), CHUNK)]
    body = b""
    for n, piece in enumerate(pieces):
        if cut and n == len(pieces) - 1:
            break
        aad = header + struct.pack(">Q", n) + (b"\x01" if n == len(pieces) - 1 else b"\x00")
        nonce = os.urandom(12)
        chunk = nonce + AESGCM(KEY).encrypt(nonce, piece, aad)
        if alter == n:
            chunk = chunk[:20] + bytes([chunk[20] ^ 1]) + chunk[21:]
        body += struct.pack(">I", len(chunk)) + chunk
    signed = header + body
    message = b"ehr audit segment v1\n" + hashlib.sha256(signed).digest()
    return signed + hashlib.sha256(PUBLIC).digest()[:8] + SIGNER.sign(message)


def main(out):
    entries = [entry(i, i == 5) for i in range(4, 7)]  # 3 entries, ~80 KB of random details: 2 chunks
    for name, data in [("sealed-valid-three-entries.seg", sealed(4, entries)),
                       ("sealed-chunk-altered-resigned.seg", sealed(4, entries, alter=0)),
                       ("sealed-last-chunk-cut-resigned.seg", sealed(4, entries, cut=True)),
                       ("sealed-v3-key-2-three-entries.seg", sealed(4, entries, key_version=2)),
                       ("sealed-v3-key-9-not-held.seg", sealed(4, entries, key_version=9))]:
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
