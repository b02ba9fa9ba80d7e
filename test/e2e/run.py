#!/usr/bin/env python3
"""End-to-end runner: imports every test/e2e/test_*.py, calls each top-level
test_* function (setup_module/teardown_module around them) and prints one
"PASS e2e:module:name" or "FAIL e2e:module:name: why" line per test.

    python3 test/e2e/run.py BINARY [PATTERN]

The binary path reaches tests as DEPLOY_API_BIN. Exit 1 when any failed."""
import importlib
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    os.environ["DEPLOY_API_BIN"] = os.path.abspath(sys.argv[1])
    pattern = sys.argv[2] if len(sys.argv) > 2 else ""
    sys.path.insert(0, HERE)
    failed = passed = skipped = 0
    names = sorted(f[:-3] for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))
    for modname in names:
        try:
            mod = importlib.import_module(modname)
        except Exception as e:  # an unimportable module fails as a whole
            print(f"FAIL e2e:{modname}: import: {e!r}", flush=True)
            failed += 1
            continue
        tests = [(n, f) for n, f in vars(mod).items() if n.startswith("test_") and callable(f)]
        tests = [(n, f) for n, f in tests if pattern in f"{modname}:{n}"]
        if not tests:
            continue
        tests.sort(key=lambda t: t[1].__code__.co_firstlineno)
        try:
            if hasattr(mod, "setup_module"):
                mod.setup_module()
        except Exception as e:
            if type(e).__name__ == "Skip":
                print(f"SKIP e2e:{modname}: {e}", flush=True)
                continue
            print(f"FAIL e2e:{modname}:setup_module: {e!r}", flush=True)
            traceback.print_exc(file=sys.stdout)
            failed += 1
            continue
        for name, fn in tests:
            t0 = time.monotonic()
            try:
                fn()
            except Exception as e:
                if type(e).__name__ == "Skip":
                    skipped += 1
                    print(f"SKIP e2e:{modname}:{name}: {e}", flush=True)
                    continue
                failed += 1
                print(f"FAIL e2e:{modname}:{name}: {type(e).__name__}: {e}", flush=True)
                tb = traceback.format_exc().splitlines()
                for line in tb[-12:]:
                    print("    " + line)
            else:
                passed += 1
                print(f"PASS e2e:{modname}:{name} ({time.monotonic() - t0:.2f}s)", flush=True)
        try:
            if hasattr(mod, "teardown_module"):
                mod.teardown_module()
        except Exception as e:
            print(f"FAIL e2e:{modname}:teardown_module: {e!r}", flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
