"""kit/sync.py on a made-up monorepo: copies filled per blueprint, drift named by file."""

import tempfile
import unittest
from pathlib import Path

import sync


def monorepo(root: Path) -> tuple[Path, Path]:
    for folder, package in (("shop-a", "shop_a"), ("shop_b", "shop_b")):
        (root / folder).mkdir()
        (root / folder / "pyproject.toml").write_text(f'[tool.kedro]\npackage_name = "{package}"\n')
    (root / "docs").mkdir()  # not a blueprint: no [tool.kedro]
    kit = root / "kit" / "files"
    (kit / "src" / "{{package}}").mkdir(parents=True)
    (kit / "src" / "{{package}}" / "shared.py").write_text(
        'NAME = "{{package}} in {{blueprint}}"\n'
    )
    (kit / "only_a.txt").write_text("a\n")
    manifest = root / "kit" / "manifest.toml"
    manifest.write_text('[only]\n"only_a.txt" = ["shop-a"]\n')
    return kit, manifest


class SyncTest(unittest.TestCase):
    def test_sync_fills_names_then_check_names_each_drifted_or_missing_copy(self):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            kit, manifest = monorepo(root)
            self.assertEqual(sync.blueprints(root), {"shop-a": "shop_a", "shop_b": "shop_b"})
            self.assertEqual(len(sync.sync(root, kit, manifest)), 3)
            copy = root / "shop-a" / "src" / "shop_a" / "shared.py"
            self.assertEqual(copy.read_text(), 'NAME = "shop_a in shop-a"\n')
            self.assertFalse((root / "shop_b" / "only_a.txt").exists())
            self.assertEqual(sync.check(root, kit, manifest), [])

            copy.write_text('NAME = "edited in place"\n')
            (root / "shop-a" / "only_a.txt").unlink()
            problems = sync.check(root, kit, manifest)
            self.assertEqual(len(problems), 2)
            self.assertTrue(problems[0].startswith("shop-a/only_a.txt: missing"))
            self.assertIn("shop-a/src/shop_a/shared.py differs from kit/files/src/", problems[1])
            self.assertIn('+NAME = "edited in place"', problems[1])


if __name__ == "__main__":
    unittest.main()
