"""kit/text_check.py finds labels and outside paths, and leaves ordinary text alone."""

import tempfile
import unittest
from pathlib import Path

import text_check


class TextCheckTest(unittest.TestCase):
    def test_labels_and_outside_paths_are_named_with_file_and_line(self):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            (root / "README.md").write_text(
                "H&M sequences (G1's adapter).\n"
                "# --- R2 (model side)\n"
                "measured in /work/shared/dependencies.md\n"
                "see ../shared/data-contracts.md\n"
            )
            (root / "ok.md").write_text(
                "R2-score, G10x, v1.R2, model_R2 and an r2 score are fine; so is ../docs/a.md\n"
            )
            found = text_check.findings(root, ["README.md", "ok.md"])
        self.assertEqual(
            found,
            [
                'README.md:1: an internal work-item label: "G1\'s"',
                "README.md:2: an internal work-item label: 'R2'",
                "README.md:3: a path outside the repository: '/work/'",
                "README.md:4: a path outside the repository: '../shared'",
            ],
        )


if __name__ == "__main__":
    unittest.main()
