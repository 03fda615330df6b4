#!/usr/bin/env python3
"""Seed a fuzz corpus from the project's test vectors, then optionally run the fuzzer.

Usage: fuzz_seed.py TARGET DATA_DIR CORPUS_DIR [-- FUZZER ARGS...]

Each fuzz target gets the byte sequences its input format expects: bus streams for
the Tigo observer, selector byte + payload for the Tigo decoders, state files for
the state loader, RCT wire bytes for the RCT receiver, pcapng for the capture reader.
Files are named by content hash, so re-seeding never duplicates an entry.
"""
import glob
import hashlib
import json
import os
import re
import sys


def hexbytes(text):
    return bytes.fromhex(re.sub(r"[^0-9A-Fa-f]", "", text))


def hex_file(path):
    lines = [l for l in open(path) if not l.startswith("#")]
    return hexbytes("".join(lines))


def load(data, rel):
    with open(os.path.join(data, rel)) as f:
        return json.load(f)


def tigo_streams(data):
    out = []
    for case in load(data, "tigo/link_receiver_streams.json")["cases"]:
        buf = b""
        for chunk in case["input"]:
            if "hex" in chunk:
                buf += hexbytes(chunk["hex"])
            else:
                buf += bytes.fromhex(chunk["repeat_byte_hex"]) * min(chunk["count"], 300)
        out.append(buf)
    out += [hexbytes(c["bus_hex"]) for c in load(data, "tigo/link_frames.json")["cases"]]
    for sc in load(data, "tigo/observer_scenarios.json")["scenarios"]:
        out.append(b"".join(hexbytes(s["bus_hex"]) for s in sc["steps"]))
    out.append(hexbytes(load(data, "tigo/enumeration_sequence.json")["bus_hex"]))
    for sc in load(data, "tigo/transport_commands.json")["correlation_scenarios"]:
        frames = sc["frames_hex"]
        out.append(b"".join(hexbytes(f if isinstance(f, str) else json.dumps(f)) for f in frames)
                   if all(isinstance(f, str) for f in frames) else b"")
    for path in glob.glob(os.path.join(data, "tigo-fw4", "*.hex")):
        out.append(hex_file(path))
    return [s for s in out if s]


def tigo_decoder_inputs(data):
    selector = {0x0148: 1, 0x0149: 2, 0x0B0F: 3, 0x0B10: 4, 0x0039: 5, 0x003B: 5,
                0x0014: 6, 0x003C: 7, 0x0043: 8, 0x0042: 8}
    out = []
    for c in load(data, "tigo/link_frames.json")["cases"]:
        body = hexbytes(c["body_hex"])
        out.append(bytes([0]) + body)
        out.append(bytes([10]) + body)
        ftype = int(c["frame_type"]) if not isinstance(c["frame_type"], str) else int(c["frame_type"], 16)
        if ftype in selector:
            out.append(bytes([selector[ftype]]) + hexbytes(c["payload_hex"]))
    for c in load(data, "tigo/pv_application.json")["cases"]:
        if c.get("data_hex") is not None and c.get("packet_type_hex"):
            out.append(bytes([9, int(c["packet_type_hex"], 16)]) + hexbytes(c["data_hex"]))
    for c in load(data, "tigo/power_reports.json")["cases"]:
        out.append(bytes([9, 0x31]) + hexbytes(c["data_hex"]))
    for path in glob.glob(os.path.join(data, "tigo-fw4", "*.hex")):
        for line in open(path):
            if not line.startswith("#") and line.strip():
                out.append(bytes([0]) + hexbytes(line))
    return out


def tigo_states(data):
    with open(os.path.join(data, "tigo/fork_state_file_example.json"), "rb") as f:
        example = f.read()
    return [example, b"{}", b'{"gateway_node_tables":{},"gateway_identities":{},"gateway_versions":{}}']


def rct_streams(data):
    out = []
    for v in load(data, "rct/receive_streams.json")["vectors"]:
        out.append(b"".join(hexbytes(c) for c in v["chunks_hex"]))
    for v in load(data, "rct/frames_encode.json")["vectors"]:
        if v.get("encoded_hex"):
            out.append(hexbytes(v["encoded_hex"]))
    for v in load(data, "rct/registry_roundtrip.json")["vectors"]:
        out.append(hexbytes(v["response_wire_hex"]))
    return [s for s in out if s]


def captures(data):
    out = []
    root = os.path.dirname(os.path.dirname(os.path.abspath(data)))
    for path in glob.glob(os.path.join(root, "data", "demo", "*.pcapng")):
        with open(path, "rb") as f:
            out.append(f.read(8192))
    return out


SEEDS = {
    "fuzz_tigo_observer": lambda d: [b"\x00" + s for s in tigo_streams(d)] + [b"\x1f" + s for s in tigo_streams(d)],
    "fuzz_tigo_decoders": tigo_decoder_inputs,
    "fuzz_tigo_state": tigo_states,
    "fuzz_rct_receiver": rct_streams,
    "fuzz_capture": captures,
}


def main():
    argv = sys.argv[1:]
    run = []
    if "--" in argv:
        i = argv.index("--")
        argv, run = argv[:i], argv[i + 1:]
    if len(argv) != 3:
        sys.exit(__doc__)
    target, data, corpus = argv
    os.makedirs(corpus, exist_ok=True)
    seeds = SEEDS.get(target, lambda d: [])(data)
    for s in seeds:
        name = hashlib.sha1(s).hexdigest()
        path = os.path.join(corpus, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(s)
    if run:
        os.execv(run[0], run + [corpus])


if __name__ == "__main__":
    main()
