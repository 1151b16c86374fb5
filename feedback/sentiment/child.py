"""The comment-reading process: `python -m feedback.sentiment.child`, driven by CommentReader.

Reads frames from stdin (a 4-byte big-endian length, then a msgpack list of comments) and
answers each with a frame holding the list of their insights, in order. Exits at end of input,
which is how the service stops it (and what happens when the service dies).
"""

from __future__ import annotations

import signal
import struct
import sys
from typing import BinaryIO

import msgspec

from feedback.sentiment import CommentInsight, read_comment

FRAME = struct.Struct(">I")


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    read, write, flush = stdin.read, stdout.write, stdout.flush
    decode = msgspec.msgpack.Decoder(list[str]).decode
    encode = msgspec.msgpack.Encoder().encode
    while True:
        head = read(FRAME.size)
        if len(head) < FRAME.size:
            return
        texts = decode(read(FRAME.unpack(head)[0]))
        insights: list[CommentInsight] = [read_comment(t) for t in texts]
        body = encode(insights)
        write(FRAME.pack(len(body)) + body)
        flush()


def main() -> None:
    # Ctrl-C and a stop signal reach the whole process group; the service decides when this
    # process ends: it closes our stdin once the answers in flight are read, and a service
    # that died closes it too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
