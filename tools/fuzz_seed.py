#!/usr/bin/env python3
"""Seed a fuzz corpus from the project's test vectors, then optionally run the fuzzer.

Usage: fuzz_seed.py TARGET DATA_DIR CORPUS_DIR [-- FUZZER ARGS...]

Each fuzz target gets the byte sequences its input format expects: bus streams for
the Tigo observer, selector byte + payload for the Tigo decoders, state files for
the state loader, INI text for the daemon configuration, a type byte + payload
for the RCT value decoder, length-prefixed packets or a pcap file for the RCT
capture reader, installation parameters for the Tigo simulator round trip, RCT
wire bytes for the RCT receiver, pcapng for the capture reader.
Files are named by content hash, so re-seeding never duplicates an entry.
Regression inputs in DATA_DIR/fuzz-regressions/TARGET/ are added as they are.
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


def daemon_configs(data):
    root = os.path.dirname(os.path.dirname(os.path.abspath(data)))
    out = []
    for path in glob.glob(os.path.join(root, "data", "*.ini")):
        with open(path, "rb") as f:
            out.append(f.read())
    out += [
        b"[general]\nstate_dir = st\nnight = zero\ntz = +01:00\nsave_interval = 5\n",
        b"[tigo roof]\ntcp = 127.0.0.1:7160\nreconnect_timeout = 30\n[panels]\nmodules = A:a1:4-A1B2C3D\n",
        b"[rct inv]\nhost = 127.0.0.1:8899\n[mqtt]\nhost = 127.0.0.1\nport = 1883\n[json]\n",
        b"[history]\npath = h.db\n[influx]\noutput = stdout\n[http]\nport = 0\n[prometheus]\nport = 0\n",
    ]
    return out


def rct_values(data):
    out = []
    for v in load(data, "rct/values.json")["decode"]:
        if v.get("input_hex") is not None and v.get("type_value") is not None:
            tv = int(v["type_value"])
            order = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 21, 22, 23, 24]
            if tv in order:
                out.append(bytes([order.index(tv)]) + hexbytes(v["input_hex"]))
    return out


def _ipv4_tcp(src, dst, seq, payload, syn=False):
    import struct
    tcp = struct.pack(">HHIIBBHHH", src, dst, seq, 0, 5 << 4, 0x02 if syn else 0x18, 65535, 0, 0)
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 6, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2]))
    return ip + tcp + payload


def rct_pcaps(data):
    import struct
    frames = rct_streams(data)[:24]
    pkts, seq_c, seq_s = [], 1000, 5000
    pkts.append(_ipv4_tcp(40000, 8899, seq_c - 1, b"", syn=True))
    for i, f in enumerate(frames):
        if i % 2:
            pkts.append(_ipv4_tcp(8899, 40000, seq_s, f))
            seq_s += len(f)
        else:
            pkts.append(_ipv4_tcp(40000, 8899, seq_c, f))
            seq_c += len(f)
    raw = b"".join(struct.pack(">H", len(p)) + p for p in pkts)
    # The same packets as a classic pcap file (link type 228: raw IPv4).
    pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 228)
    for i, p in enumerate(pkts):
        pcap += struct.pack("<IIII", 1700000000 + i, 0, len(p), len(p)) + p
    return [bytes([5]) + raw, bytes([5]) + raw[::-1][:200], bytes([0x80]) + pcap]


def tigo_sim_configs(data):
    # seed (2 bytes), TAPs, panels, firmware/clouds bits, hour, frame count, observer flags
    return [bytes([1, 0, 0, 9, 0, 8, 0x40, 0]), bytes([2, 0, 1, 11, 1, 10, 0x80, 0]),
            bytes([3, 0, 2, 5, 3, 2, 0xff, 0]), bytes([4, 0, 0, 3, 0, 9, 0x20, 0x1f]),
            bytes([5, 0, 1, 7, 2, 7, 0x60, 0]) + bytes([0x10, 0x20, 0x01])]


def radio_config_streams(data):
    v = load(data, "tigo/radio_config_key.json")
    req, rsp = hexbytes(v["request"]["bus_hex"]), hexbytes(v["response"]["bus_hex"])
    return [req + rsp, rsp[:30], rsp + rsp[3:]]


SEEDS = {
    "fuzz_tigo_observer": lambda d: [b"\x00" + s for s in tigo_streams(d)] + [b"\x1f" + s for s in tigo_streams(d)],
    "fuzz_tigo_decoders": tigo_decoder_inputs,
    "fuzz_tigo_state": tigo_states,
    "fuzz_rct_receiver": rct_streams,
    "fuzz_capture": captures,
    "fuzz_daemon_config": daemon_configs,
    "fuzz_rct_value": rct_values,
    "fuzz_rct_pcap": rct_pcaps,
    "fuzz_tigo_sim": tigo_sim_configs,
    "fuzz_tigo_redact": lambda d: [bytes([7]) + s for s in tigo_streams(d) + radio_config_streams(d)],
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
    # Inputs that once made a target fail are replayed on every run: libFuzzer
    # executes the whole corpus before it starts mutating.
    for path in sorted(glob.glob(os.path.join(data, "fuzz-regressions", target, "*"))):
        with open(path, "rb") as f:
            seeds.append(f.read())
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
