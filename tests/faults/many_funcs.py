# SPDX-License-Identifier: MIT
"""Big profiles: thousands of distinct functions called in ever-changing chains,
so a top or record reply carries thousands of frames and stacks."""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "workloads"))
import common  # noqa: E402

N = int(os.environ.get("PYPROBE_FAULTS_FUNCS", "4000"))
DEPTH = 40
src = []
for i in range(N):
    src.append("def function_with_a_rather_long_name_number_%d(chain, k):\n"
               "    if k < len(chain):\n"
               "        return chain[k](chain, k + 1)\n"
               "    x = 0\n"
               "    for j in range(300):\n"
               "        x += j\n"
               "    return x\n" % i)
ns = {}
exec(compile("".join(src), "/generated/module/with/a/long/path/for/big/replies/many_functions.py", "exec"), ns)
funcs = [ns["function_with_a_rather_long_name_number_%d" % i] for i in range(N)]

common.start_watchdog()
common.ready()
rnd = random.Random(1)
while True:
    chain = [funcs[rnd.randrange(N)] for _ in range(DEPTH)]
    chain[0](chain, 1)
