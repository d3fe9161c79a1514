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

    def test_a_block_is_synced_inside_each_file_and_its_drift_or_absence_named(self):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            kit, manifest = monorepo(root)
            (kit.parent / "blocks").mkdir()
            (kit.parent / "blocks" / "user").write_text("USER {{blueprint}}\n")
            manifest.write_text('[blocks]\n"user" = { file = "Dockerfile" }\n')
            own = "FROM {}\n# kit block: user\nold\n# end of kit block: user\nCMD run\n"
            for folder_name in ("shop-a", "shop_b"):
                (root / folder_name / "Dockerfile").write_text(own.format(folder_name))
            sync.sync(root, kit, manifest)
            dockerfile = root / "shop-a" / "Dockerfile"
            self.assertEqual(
                dockerfile.read_text(),
                "FROM shop-a\n# kit block: user\nUSER shop-a\n# end of kit block: user\nCMD run\n",
            )
            self.assertEqual(sync.check(root, kit, manifest), [])

            dockerfile.write_text(dockerfile.read_text().replace("USER shop-a", "USER root"))
            (root / "shop_b" / "Dockerfile").write_text("FROM shop_b\nUSER shop_b\n")
            problems = sync.check(root, kit, manifest)
            self.assertEqual(len(problems), 2)
            self.assertIn("shop-a/Dockerfile: the block '# kit block: user' differs", problems[0])
            self.assertIn("+USER root", problems[0])
            self.assertTrue(problems[1].startswith("shop_b/Dockerfile: no block"))
            sync.sync(root, kit, manifest)  # the block is rewritten, the file without one kept
            self.assertIn("USER shop-a", dockerfile.read_text())
            self.assertEqual(
                (root / "shop_b" / "Dockerfile").read_text(), "FROM shop_b\nUSER shop_b\n"
            )


if __name__ == "__main__":
    unittest.main()
