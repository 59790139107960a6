"""The ``enhance`` pipeline step: pick and apply the operations the image needs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ocrprep.enhance.policy import Thresholds, auto_enhance
from ocrprep.errors import PoorQualityImage

if TYPE_CHECKING:
    from ocrprep.pipeline import Context

__all__ = ["run"]


def run(ctx: Context) -> None:
    """Enhance ``ctx.image`` per ``settings.process.enhance_mode`` (auto, always, off).

    ``settings.process.enhance_profile`` names the thresholds (``Thresholds.for_engine``):
    ``generic``, or tailored to the OCR engine that will read the image.

    Uses ``ctx.report`` (from ``validate``) as the input's assessment when present. Replaces
    ``ctx.image`` and sets ``ctx.changed`` only when the result assesses at least as well, records
    the operations with their parameters, and leaves the new assessment in ``ctx.report``.

    Raises
    ------
    PoorQualityImage
        When the image is still not acceptable after enhancement; carries the report after
        (``report``) and before (``before``). Not when a validation earlier in the pipeline
        deferred to the later steps and these act on every defect left (``extract`` cuts away
        the table that makes a photo look covered or glaring): that validation judges their
        result.
    """
    from ocrprep.validate import is_sliver, mended_by, sliver_error, unmended  # (validate imports the pipeline)

    started = time.perf_counter()
    height, width = ctx.image.shape[:2]
    if is_sliver(height, width):  # refused as validate refuses it, whether or not it ran
        from ocrprep.quality import ASSESS_MAX_SIDE, assess

        preview, source_size = ctx.preview(ASSESS_MAX_SIDE)
        raise sliver_error(height, width, ctx.report or assess(preview, source_size=source_size))
    mode = ctx.settings.process.enhance_mode
    profile = ctx.settings.process.enhance_profile
    result = auto_enhance(ctx.image, ctx.report, mode=mode, thresholds=Thresholds.for_engine(profile))
    if result.changed:
        ctx.image = result.image
        ctx.changed = True
    ctx.report = result.after
    params = {
        "mode": mode,
        "profile": profile,
        "operations": [op.to_dict() for op in result.operations],
        "discarded": [op.to_dict() for op in result.discarded],
        "score_before": round(result.before.score, 4),
        "score_after": round(result.after.score, 4),
    }
    ctx.record("enhance", params, changed=result.changed, started=started)
    if mode != "off" and not result.after.acceptable:
        if ctx.final_check and not unmended(result.after, mended_by(ctx.remaining)):
            # what is left a later step acts on (a photo's background, cut away by extract);
            # the validation that deferred to the later steps judges their result
            return
        done = ", ".join(str(op) for op in result.operations) or "no operation helped"
        reasons = "; ".join(result.after.reasons[:3]) or "quality score too low"
        raise PoorQualityImage(
            f"image is still not good enough for OCR after enhancement ({done}): {reasons}",
            result.after,
            before=result.before,
        )
