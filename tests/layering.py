"""Importing a layer of infertui with the UI libraries made unimportable.

A plain check of `sys.modules` after import is fooled by dependencies that
pull in rich on their own (httpx imports its command line, and so rich, when
click happens to be installed). Here `textual` and `rich` raise ImportError:
a dependency that only tries them goes on without, and an infertui module
that needs them fails to import, which is what the layering forbids.
"""

from __future__ import annotations

import subprocess
import sys

_CODE = """
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('textual', 'rich'):
            raise ImportError(f'{name} is not allowed in this layer')
        return None
sys.meta_path.insert(0, Block())
failed = []
for package in sys.argv[1:]:
    root = importlib.import_module(package)
    names = [package] + [m.name for m in pkgutil.walk_packages(getattr(root, '__path__', []), package + '.')]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            failed.append(f'{name}: {exc}')
print('\\n'.join(failed))
sys.exit(1 if failed else 0)
"""


def import_without_ui(*packages: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _CODE, *packages], capture_output=True, text=True,
                          timeout=120)
