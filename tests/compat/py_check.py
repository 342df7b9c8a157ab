# The python3 case of tests/compat: the standard library's C modules, a
# threaded computation and a subprocess; prints results that do not depend
# on timing.
import hashlib
import json
import re
import sqlite3
import subprocess
import threading

digests = [None] * 4


def work(i):
    h = hashlib.sha256()
    for k in range(5000):
        h.update(str(k * (i + 1)).encode())
    digests[i] = h.hexdigest()[:16]


threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("threads", digests)

out = subprocess.run(["/bin/echo", "from a subprocess"], capture_output=True,
                     text=True, check=True)
print("subprocess", out.stdout.strip(), out.returncode)

db = sqlite3.connect(":memory:")
db.execute("create table t (k integer, v text)")
db.executemany("insert into t values (?, ?)",
               [(i, "v%d" % i) for i in range(1000)])
print("sqlite3", db.execute("select count(*), sum(k) from t").fetchone())

print("json", json.dumps({"a": [1, 2, {"b": None}]}, sort_keys=True))
print("re", re.findall(r"(\w)(\d+)", "a1 b22 c333"))
