#!/usr/bin/env python3
"""Independent check of our ESP format: decrypts the ESP packets of a pcap with the given keys.

Usage: esp_check.py CAPTURE.pcap SPI:ALGORITHM:HEXKEY [...]

Reads a classic pcap (Ethernet or Linux cooked), finds ESP in IPv4 (protocol 50) or in UDP port
4500 (RFC 3948, non-ESP marker and keepalives skipped), and opens each packet with the
`cryptography` package: AES-GCM (RFC 4106) or ChaCha20-Poly1305 (RFC 7634), nonce = salt || IV,
AAD = SPI || sequence number (32-bit sequence numbers). Checks the padding and next header and
prints one line per packet with the inner protocol. Exits 1 if any packet fails to open.
"""
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    at = 24
    while at + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[at + 8:at + 12])[0]
        frame = data[at + 16:at + 16 + incl]
        at += 16 + incl
        if linktype == 1:  # Ethernet
            if len(frame) < 14 or frame[12:14] != b"\x08\x00":
                continue
            yield frame[14:]
        elif linktype == 113:  # Linux cooked capture
            if len(frame) < 16 or frame[14:16] != b"\x08\x00":
                continue
            yield frame[16:]
        elif linktype == 101:  # raw IP
            yield frame


def esp_payloads(ip):
    if len(ip) < 20 or ip[0] >> 4 != 4:
        return None
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack(">H", ip[2:4])[0]
    body = ip[ihl:total]
    if ip[9] == 50:
        return body
    if ip[9] == 17 and len(body) >= 8 and struct.unpack(">H", body[2:4])[0] == 4500:
        udp = body[8:]
        if udp == b"\xff" or udp[:4] == b"\x00\x00\x00\x00":
            return None
        return udp
    return None


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    sas = {}
    for arg in sys.argv[2:]:
        spi, alg, key = arg.split(":")
        key = bytes.fromhex(key)
        cipher = ChaCha20Poly1305(key[:-4]) if alg == "chacha20poly1305" else AESGCM(key[:-4])
        sas[int(spi, 0)] = (cipher, key[-4:])
    opened = failed = 0
    for ip in packets(sys.argv[1]):
        esp = esp_payloads(ip)
        if esp is None:
            continue
        spi, seq = struct.unpack(">II", esp[:8])
        if spi not in sas:
            print(f"SPI 0x{spi:08x}: no key given")
            failed += 1
            continue
        cipher, salt = sas[spi]
        try:
            plain = cipher.decrypt(salt + esp[8:16], esp[16:], esp[:8])
        except Exception:  # noqa: BLE001 - any failure is a failed check
            print(f"SPI 0x{spi:08x} seq {seq}: ICV does not verify")
            failed += 1
            continue
        pad_len, next_header = plain[-2], plain[-1]
        inner = plain[: len(plain) - 2 - pad_len]
        padding = plain[len(inner):-2]
        if padding != bytes(range(1, pad_len + 1)) or next_header != 4 or inner[0] >> 4 != 4:
            print(f"SPI 0x{spi:08x} seq {seq}: bad padding or next header {next_header}")
            failed += 1
            continue
        opened += 1
        print(f"SPI 0x{spi:08x} seq {seq}: inner IPv4 protocol {inner[9]}, {len(inner)} bytes")
    print(f"{opened} opened, {failed} failed")
    return 0 if opened > 0 and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
