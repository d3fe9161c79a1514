"""A blueprint made by ``make new-blueprint`` passes its own test suite, not only FROM's.

recommender_ranking, the quickest suite (about 6 minutes here), is copied under a new name into
a scratch monorepo and its whole ``pytest`` run with its source's .venv (the copy's package
first on PYTHONPATH: no second install of the same lock). What a renamed copy breaks (a test
that names the old package, model or experiment, a path, a subprocess without the copy's
package) fails here. Run by ``make new-blueprint-suite-test``, after the blueprints' tests.
"""

import contextlib
import io
import tempfile
import unittest
from pathlib import Path

import new_blueprint
from test_new_blueprint import monorepo, run_in_copy, source_bin

SUITE_FROM, SUITE_NAME = "recommender_ranking", "shop-ranking"


class CopySuiteTest(unittest.TestCase):
    def test_a_renamed_copy_passes_its_own_test_suite(self):
        bin_dir = source_bin(self, SUITE_FROM)
        with tempfile.TemporaryDirectory() as folder:
            root = monorepo(Path(folder))
            with contextlib.redirect_stdout(io.StringIO()):
                made = new_blueprint.create(root, SUITE_NAME, SUITE_FROM)
            self.assertEqual(made["lint"], [])
            copy = root / SUITE_NAME
            done = run_in_copy(
                self, copy, [copy / "src"], str(bin_dir / "pytest"), "-q", "-p", "no:cacheprovider"
            )
            summary = done.stdout.strip().splitlines()[-1]
            self.assertRegex(summary, r"\d+ passed")
            self.assertNotRegex(summary, r"failed|error")


if __name__ == "__main__":
    unittest.main()
