#!/usr/bin/env python3
"""timed.py FILE CMD...: run CMD (its output passes through), then write the CPU seconds it
used (user + system, exact from the kernel's accounting) to FILE. The load generator shares
the cores with the servers, so its own cost per request bounds what any server can reach."""
import resource, subprocess, sys

rc = subprocess.run(sys.argv[2:]).returncode
used = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write(f"{used.ru_utime + used.ru_stime:.3f}")
sys.exit(rc)
