# Runs graphite-web 1.1.8 (Debian's graphite-web, python3-rrdtool) in
# process, through Django's test client, over the RRD files under "dir"
# (its StandardFinder's RRD reader), and answers each request of
# {"dir": ..., "requests": [{"path", "params", "method"}]} on stdin with
# {"status", "body"} on stdout. Used by the differential test and the
# benchmarks of web/graphite.
import warnings
warnings.simplefilter("ignore")
import json, os, sys, tempfile
cfg = json.load(sys.stdin)
tmp = tempfile.mkdtemp()
settings_py = os.path.join(tmp, "gm_graphite_settings.py")
with open(settings_py, "w") as f:
    f.write("""
from graphite.settings import *
STANDARD_DIRS = [%r]
STORAGE_FINDERS = ('graphite.finders.standard.StandardFinder',)
TIME_ZONE = 'UTC'
ENFORCE_INPUT_VALIDATION = True
FLUSHRRDCACHED = ''
LOG_DIR = %r
LOG_RENDERING_PERFORMANCE = False
LOG_CACHE_PERFORMANCE = False
LOG_INFO_PERFORMANCE = False
CACHES = {'default': {'BACKEND': 'django.core.cache.backends.dummy.DummyCache'}}
DATABASES = {'default': {'NAME': %r, 'ENGINE': 'django.db.backends.sqlite3'}}
TAGDB = ''
USE_WORKER_POOL = False
ALLOWED_HOSTS = ['*']
SECRET_KEY = 'graphmetrics-differential-test'
""" % (cfg["dir"], tmp, os.path.join(tmp, "g.db")))
sys.path.insert(0, tmp)
os.environ["DJANGO_SETTINGS_MODULE"] = "gm_graphite_settings"
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from django.test import Client
c = Client(raise_request_exception=False)
import shutil, time
out = []
for r in cfg["requests"]:
    secs = []
    for _ in range(max(r.get("repeat", 1), 1)):
        t0 = time.perf_counter()
        if r["path"] == "@functions":
            # /functions itself fails on Python 3.11 (inspect.getargspec is
            # gone): list the functions' groups and params directly.
            from graphite.functions import SeriesFunctions
            fl = {n: {"name": n, "group": getattr(f, "group", ""), "params": [p.toJSON() for p in f.params]}
                  for n, f in SeriesFunctions().items()}
            resp = type("R", (), {"status_code": 200, "content": json.dumps(fl, default=str).replace("Infinity", "1e9999").encode()})
        elif r.get("method") == "POST":
            resp = c.post(r["path"], r["params"])
        else:
            resp = c.get(r["path"], r["params"])
        body = resp.content.decode("utf-8", "replace")
        secs.append(time.perf_counter() - t0)
    out.append({"status": resp.status_code, "body": body, "seconds": secs})
shutil.rmtree(tmp, ignore_errors=True)
json.dump(out, sys.stdout)
