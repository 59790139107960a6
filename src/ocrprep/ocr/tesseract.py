"""Tesseract (Debian ``tesseract-ocr``), run as a subprocess that reads PNG on stdin."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess

import cv2
import numpy as np

from ocrprep.enhance._image import check_image
from ocrprep.errors import OcrEngineError
from ocrprep.ocr.base import OcrLine, OcrResult

__all__ = ["TesseractEngine"]


class TesseractEngine:
    """The ``tesseract`` binary behind the :class:`~ocrprep.ocr.base.OcrEngine` interface.

    Parameters
    ----------
    lang : str
        Tesseract language(s), for example ``"eng"`` or ``"eng+fra"``.
    psm : int
        Page segmentation mode; 4 (one column of text of varying sizes) suits receipts.
    binary : str
        Name or path of the executable.
    timeout : float
        Seconds before a run is abandoned.
    """

    name = "tesseract"

    def __init__(self, *, lang: str = "eng", psm: int = 4, binary: str = "tesseract",
                 timeout: float = 120.0) -> None:
        self.lang = lang
        self.psm = psm
        self.binary = binary
        self.timeout = timeout

    def is_available(self) -> bool:
        """True when the binary is on the PATH and answers ``--version``."""
        path = shutil.which(self.binary)
        if path is None:
            return False
        try:
            done = subprocess.run([path, "--version"], capture_output=True, timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return False
        return done.returncode == 0

    def run_tsv(self, image: np.ndarray, *args: str) -> str:
        """Run tesseract on ``image`` with extra arguments; returns its stdout."""
        check_image(image)
        path = shutil.which(self.binary)
        if path is None:
            raise OcrEngineError(
                f"{self.binary} not found: install Debian's tesseract-ocr (apt-get install tesseract-ocr)"
            )
        src = image if image.ndim == 2 else cv2.cvtColor(image[:, :, :3], cv2.COLOR_RGB2BGR)
        ok, png = cv2.imencode(".png", src)
        if not ok:  # pragma: no cover - OpenCV always encodes uint8
            raise OcrEngineError("could not encode the image for tesseract")
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            done = subprocess.run(
                [path, "stdin", "stdout", *args], input=png.tobytes(), capture_output=True,
                timeout=self.timeout, env=env, check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise OcrEngineError(f"tesseract took longer than {self.timeout:.0f} s") from exc
        except OSError as exc:
            raise OcrEngineError(f"tesseract could not run: {exc}") from exc
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()
            raise OcrEngineError(f"tesseract failed: {message[-1] if message else done.returncode}")
        return done.stdout.decode("utf-8", errors="replace")

    def recognize(self, image: np.ndarray) -> OcrResult:
        """Read the text; words are grouped into Tesseract's lines, with their boxes.

        Raises
        ------
        OcrEngineError
            When the binary is missing or fails.
        """
        tsv = self.run_tsv(image, "-l", self.lang, "--psm", str(self.psm), "tsv")
        lines: dict[tuple[int, int, int, int], list[dict[str, str]]] = {}
        for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
            text = (row.get("text") or "").strip()
            if row.get("level") != "5" or not text:
                continue
            key = (int(row["page_num"]), int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
            lines.setdefault(key, []).append(row)
        result = []
        for words in lines.values():
            left = min(int(w["left"]) for w in words)
            top = min(int(w["top"]) for w in words)
            right = max(int(w["left"]) + int(w["width"]) for w in words)
            bottom = max(int(w["top"]) + int(w["height"]) for w in words)
            confs = [float(w["conf"]) for w in words if float(w["conf"]) >= 0]
            box = ((left, top), (right, top), (right, bottom), (left, bottom))
            text = " ".join(w["text"].strip() for w in words)
            conf = sum(confs) / len(confs) / 100.0 if confs else 0.0
            result.append(OcrLine(text, tuple((float(x), float(y)) for x, y in box), conf))
        return OcrResult(self.name, tuple(result))
