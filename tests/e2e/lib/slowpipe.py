"""slowpipe: writes a file to stdout in two parts, as a capture that arrives slowly.

    python3 slowpipe.py FILE CUT GO

Writes the first CUT bytes of FILE (CUT may fall inside a record), then waits until the file
GO exists (up to 60 s; the test creates it once it has looked at what the reader did with the
first part), then writes the rest and ends, closing the pipe. A reader that goes away first is
not an error.
"""
import os
import sys
import time

data = open(sys.argv[1], "rb").read()
cut, go = int(sys.argv[2]), sys.argv[3]
out = sys.stdout.buffer
try:
    out.write(data[:cut])
    out.flush()
    deadline = time.monotonic() + 60
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.05)
    out.write(data[cut:])
    out.flush()
except BrokenPipeError:
    sys.stderr.close()
